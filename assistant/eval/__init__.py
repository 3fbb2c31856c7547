"""Scoring answers and retrieval. Pure, below the API: question sets and records
(:mod:`.scoring`), metrics (:mod:`.metrics`), the LLM report (:mod:`.llm_report`). Shells that drive
an :class:`~assistant.Assistant`, above it like the CLI: :mod:`.runner` (``assistant eval`` and
``assistant bench``), :mod:`.baselines`, :mod:`.bench_precision`."""

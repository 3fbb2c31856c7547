"""Scoring answers and retrieval, pure, below the API: question sets (:mod:`.questions`), records and
their summaries (:mod:`.scoring`, :mod:`.runs`), metrics (:mod:`.metrics`), reports (:mod:`.reports`),
refusal thresholds (:mod:`.calibration`) and the LLM report (:mod:`.llm_report`). What drives an
:class:`~assistant.Assistant` to make the records is :mod:`assistant.bench`, above the API."""

"""What drives an :class:`~assistant.Assistant` to measure it, above the API beside the UI:
``assistant eval`` (:mod:`.runner`, with the retrieval baselines of :mod:`.baselines`) and
``assistant bench`` (:mod:`.performance`, over the corpora of :mod:`.corpus`; the precision
comparison, :mod:`.precision`). The scoring itself is :mod:`assistant.eval`, pure."""

"""Question -> ranked passages: the signals fused in :mod:`.retriever`, optionally reordered by a
cross-encoder (:mod:`.rerank`)."""

"""Chunks -> vectors -> the index. :mod:`.embeddings` is the only place models load (converted
once by :mod:`.model_prep`, run in the precision :mod:`.precision` picks); :mod:`.store` is the only
place the index is touched; :mod:`.indexing` adds, updates and removes documents."""

"""Chunks -> vectors -> the index: :mod:`.store` is the only place the index is touched; :mod:`.indexing`
adds, updates and removes documents; :mod:`.manifest` records what made it and :mod:`.locks` keeps
writers apart. The encoders that make the vectors are :mod:`assistant.models`."""

"""Wording and prompt templates: the ``*.toml`` files beside this one (package data), loaded and
checked by :mod:`.loader`."""

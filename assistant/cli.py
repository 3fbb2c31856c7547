"""The command line moved to :mod:`assistant.ui.cli`; console scripts installed before the move import it here."""

from .ui.cli import main

__all__ = ["main"]

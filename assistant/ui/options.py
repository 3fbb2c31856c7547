"""The web chat's command-line options, one parser for ``python app.py`` and ``assistant serve``
(kept apart from :mod:`.web` so the CLI builds its parser without importing gradio)."""

from __future__ import annotations

import argparse

from ..config import Settings


def serve_options(settings: Settings | None = None) -> argparse.ArgumentParser:
    """The web chat's options (``--host``, ``--port``, ``--share``), defaulting to ``settings``: one
    parser for ``python app.py`` and ``assistant serve`` (a parent of both)."""
    settings = settings or Settings()
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--host", default=settings.host, help="address to bind (ASSISTANT_HOST, else "
                        "GRADIO_SERVER_NAME; default %(default)s, this machine only)")
    parser.add_argument("--port", type=int, default=settings.port,
                        help="port (ASSISTANT_PORT, else GRADIO_SERVER_PORT; default %(default)s)")
    parser.add_argument("--share", action="store_true", help="also publish a temporary public gradio.live link")
    return parser

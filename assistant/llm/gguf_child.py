"""The child process behind ``ASSISTANT_LLM=gguf:``: xllamacpp's llama.cpp server for one GGUF file.

:mod:`assistant.llm.gguf` runs this file by its path (so the child imports only the standard library
and xllamacpp, never the assistant package). It loads the model, serves the OpenAI-compatible API
on 127.0.0.1 at a free port, prints one JSON line ``{"address": "http://127.0.0.1:PORT"}`` when it
is ready, and serves until its standard input closes: the parent closes it to stop the child, and
the pipe closes by itself when the parent dies, however it dies. The API key comes in the
environment (``ASSISTANT_GGUF_KEY``), not on the command line where ``ps`` would show it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Serve the model until standard input closes; 1 when it cannot be loaded."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="the .gguf file")
    parser.add_argument("--context", type=int, default=8192, help="context window in tokens")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: llama.cpp's default)")
    args = parser.parse_args(argv)

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.n_ctx = args.context
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the system picks a free port; the server reports it as listening_address
    params.ui = False
    key = os.environ.get("ASSISTANT_GGUF_KEY", "")
    if key:
        params.api_keys = [key]
    if args.threads > 0:
        params.cpuparams.n_threads = args.threads
        params.cpuparams_batch.n_threads = args.threads
    try:
        server = xllamacpp.Server(params)  # returns once the model is loaded
    except RuntimeError as error:
        print(f"error: xllamacpp could not load {args.model}: {error}", file=sys.stderr, flush=True)
        return 1
    print(json.dumps({"address": server.listening_address}), flush=True)
    sys.stdin.read()  # until the parent closes the pipe or exits
    del server  # stops the server loop and joins its thread
    return 0


if __name__ == "__main__":
    sys.exit(main())

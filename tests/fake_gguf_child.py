"""A stand-in for ``assistant/gguf_child.py`` that needs no model: same command line, same protocol.

The "model" file is ``GGUF`` followed by JSON that scripts the child:
``{"reply": "text"}`` serves that reply to every chat request (an OpenAI-compatible server from
``fake_servers``); ``{"fail": "message"}`` writes the message as a llama.cpp error line and exits 1.
The child appends its pid to ``<model>.starts`` when it starts, checks the bearer key from
``ASSISTANT_GGUF_KEY`` on every request, and writes ``<model>.stopped`` when its input closes
(the clean way to stop).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_servers import FakeServer, Reply  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--context", type=int)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    model = Path(args.model)
    with open(f"{model}.starts", "a", encoding="utf-8") as starts:
        starts.write(f"{os.getpid()}\n")
    script = json.loads(model.read_bytes()[4:])
    if "fail" in script:
        print("0.00.000.100 I srv          init: loading model", file=sys.stderr)
        print(f"0.00.000.200 E llama_model_load: {script['fail']}", file=sys.stderr, flush=True)
        return 1
    key = os.environ.get("ASSISTANT_GGUF_KEY", "")
    with FakeServer("openai") as server:
        server.enqueue(*[Reply(script["reply"]) for _ in range(50)])
        print(json.dumps({"address": server.base_url.removesuffix("/v1")}), flush=True)
        sys.stdin.read()
        bad_keys = [r for r in server.requests if r["headers"].get("Authorization") != f"Bearer {key}"]
    Path(f"{model}.stopped").write_text(f"{len(server.requests)} requests, {len(bad_keys)} without the key\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

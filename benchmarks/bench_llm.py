"""The real-model bench: the shipped question set answered by a local GGUF model, every sentence verified.

    python benchmarks/bench_llm.py                          # the model `assistant llm-model` assembled
    python benchmarks/bench_llm.py --model my.gguf --out llm-bench-out
    python benchmarks/bench_llm.py --replay llm-bench-out/replies.jsonl --out llm-replay-out
    python benchmarks/bench_llm.py --sample 40 --seed 7     # a seeded subset, when the whole set takes too long

It runs ``assistant eval --mode llm`` (:func:`assistant.bench.runner.run_eval`) with the model, and
writes, besides the records and the summary, ``llm-report.md`` (every sentence the model wrote and
what verification did with it) and ``replies.jsonl``: every reply the model gave, keyed by the
exact messages it was sent. ``--replay`` answers from that file instead of the model, so a change
to verification is measured on the very same replies in a few minutes rather than an hour; a
prompt that was not recorded (a follow-up rewritten differently, retrieval that changed) gets no
reply, falls back to the extractive answer, and is counted as ``not recorded``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Settings  # noqa: E402
from assistant.bench.runner import run_eval  # noqa: E402
from assistant.eval.questions import default_question_files  # noqa: E402
from assistant.llm.backends import build_llm  # noqa: E402
from assistant.llm.failure import LLMFailure  # noqa: E402
from assistant.llm.packaged_gguf import QWEN_CODER_1_5B  # noqa: E402


def messages_key(messages: Sequence[Any]) -> str:
    """A stable key for chat messages: the sha256 of their roles and texts."""
    plain = [[getattr(m.role, "value", str(m.role)), m.content or ""] for m in messages]
    return hashlib.sha256(json.dumps(plain, ensure_ascii=False).encode()).hexdigest()


class RecordingLLM:
    """Answers with ``inner`` and appends each complete reply (or the failure) to ``path``."""

    def __init__(self, inner: Any, path: Path) -> None:
        self._inner = inner
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _write(self, entry: dict[str, Any]) -> None:
        with self._path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def stream_chat(self, messages: Sequence[Any], **kwargs: Any) -> Iterator[Any]:
        key = messages_key(messages)
        try:
            stream = self._inner.stream_chat(messages, **kwargs)
        except Exception as error:
            self._write({"key": key, "error": type(error).__name__, "detail": str(error)[:300]})
            raise

        def chunks() -> Iterator[Any]:
            parts = []
            try:
                for chunk in stream:
                    parts.append(chunk.delta or "")
                    yield chunk
            except Exception as error:
                self._write({"key": key, "error": type(error).__name__, "detail": str(error)[:300]})
                raise
            self._write({"key": key, "reply": "".join(parts)})

        return chunks()


class ReplayLLM:
    """Answers each prompt with the reply recorded for it; an unrecorded prompt fails as ``unavailable``."""

    def __init__(self, path: Path) -> None:
        self.replies: dict[str, dict[str, Any]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                self.replies[entry["key"]] = entry
        self.missing = 0

    @property
    def metadata(self) -> Any:
        from llama_index.core.llms import LLMMetadata

        return LLMMetadata(model_name="replay", is_chat_model=True)

    def stream_chat(self, messages: Sequence[Any], **kwargs: Any) -> Iterator[Any]:
        from llama_index.core.llms import ChatMessage, ChatResponse, MessageRole

        entry = self.replies.get(messages_key(messages))
        if entry is None:
            self.missing += 1
            raise LLMFailure("unavailable", "not recorded: no reply was recorded for this prompt")
        if "reply" not in entry:
            raise LLMFailure("timeout" if "Timeout" in entry["error"] else "unavailable", entry["detail"])
        text = entry["reply"]
        return iter([ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=text)])


def sampled_question_files(count: int, seed: int, folder: Path) -> list[Path]:
    """``count`` questions of the shipped set (single questions and conversations), drawn with ``seed``."""
    lines = [(path.name, line) for path in default_question_files()
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen = random.Random(seed).sample(lines, min(count, len(lines)))
    files = []
    for name in sorted({name for name, _ in chosen}):
        path = folder / name
        path.write_text("".join(line + "\n" for n, line in chosen if n == name), encoding="utf-8")
        files.append(path)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="the .gguf file (default: the one `assistant llm-model` assembled)")
    parser.add_argument("--out", type=Path, default=Path("llm-bench-out"))
    parser.add_argument("--replay", type=Path, metavar="REPLIES", help="answer from a replies.jsonl of an earlier run")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds per reply (ASSISTANT_LLM_TIMEOUT; 2 cores need more than the default 60)")
    parser.add_argument("--sample", type=int, metavar="N", help="only N questions, drawn with --seed")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    settings = Settings()
    model = args.model or settings.model_cache / QWEN_CODER_1_5B.filename
    settings = settings.replace(llm=f"gguf:{model}", llm_timeout=args.timeout)
    if args.replay:
        llm: Any = ReplayLLM(args.replay)
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "replies.jsonl").unlink(missing_ok=True)
        llm = RecordingLLM(build_llm(settings), args.out / "replies.jsonl")
    with tempfile.TemporaryDirectory() as scratch:
        files = sampled_question_files(args.sample, args.seed, Path(scratch)) if args.sample else []
        outcome = run_eval(settings, args.out, question_files=files, mode="llm", llm=llm)
    print(outcome.table)
    for key, value in outcome.summary.get("llm", {}).items():
        print(f"{key}: {value}")
    if isinstance(llm, ReplayLLM):
        print(f"not recorded: {llm.missing} prompts")
    for name, path in outcome.files.items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

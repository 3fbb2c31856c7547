"""The ``assistant`` command: a thin shell over the public API. Never prints a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

from . import Assistant, AssistantError, InvalidQuestionError, Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "index_dir": getattr(args, "index_dir", None),
        "corpus_dir": getattr(args, "corpus_dir", None),
        "embed_model": getattr(args, "embed_model", None),
        "top_k": getattr(args, "top_k", None),
    }
    if getattr(args, "no_progress", False):
        overrides["progress"] = False
    return Settings.from_env(**overrides)


def _print_answer(answer: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    print(answer.text)
    if answer.citations:
        print()
        for c in answer.citations:
            print(f"[{c.number}] {c.source} ¶{c.paragraph} [{c.start}:{c.end}] quote [{c.quote_start}:{c.quote_end}]")


def cmd_index(args: argparse.Namespace) -> int:
    bot = Assistant(_settings(args))
    report = bot.index(args.paths or None, prune=args.prune, rebuild=args.rebuild)
    for path, reason in report.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    bot = Assistant(_settings(args))
    _print_answer(bot.ask(args.question, top_k=args.top_k), args.json)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    bot = Assistant(_settings(args))
    session = bot.chat()
    print("Ask in Arabic or English. Empty line or Ctrl-D to quit; /new starts a new conversation.")
    while True:
        try:
            question = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not question.strip():
            return 0
        if question.strip() == "/new":
            session.reset()
            continue
        try:
            _print_answer(session.ask(question), args.json)
        except InvalidQuestionError as error:
            print(error, file=sys.stderr)
        print()


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import calibrate_threshold, write_report

    settings = _settings(args)
    if args.calibrate:
        settings = settings.replace(min_support_ar=float("-inf"), min_support_en=float("-inf"))
    bot = Assistant(settings)
    summary, records = bot.evaluate(args.questions or None)
    if args.calibrate:
        for lang in ("ar", "en"):
            threshold, effect = calibrate_threshold([r for r in records if r.lang == lang])
            summary[f"calibrated_min_support_{lang}"] = threshold
            summary[f"calibrated_effect_{lang}"] = effect
    records_path, summary_path = write_report(records, summary, Path(args.out))
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        print(f"{key:<{width}}  {value}")
    print(f"\nrecords: {records_path}\nsummary: {summary_path}")
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    bot = Assistant(_settings(args))
    embedder = bot.embedder
    print(f"embedding model ready: {embedder.name} ({embedder.dim} dimensions)")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    bot = Assistant(_settings(args))
    if args.remove:
        if not bot.remove(args.remove):
            print(f"{args.remove!r} is not in the index; `assistant docs` lists what is.", file=sys.stderr)
            return 2
        print(f"removed {args.remove}")
        return 0
    for doc in bot.documents():
        print(f"{doc.chunks:5d} chunks  {doc.source}  {doc.title}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option also reads its ``ASSISTANT_*`` variable)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", type=Path, help="index folder (ASSISTANT_INDEX_DIR, default index/)")
    common.add_argument("--corpus-dir", type=Path, help="corpus folder (ASSISTANT_CORPUS_DIR, default corpus/)")
    common.add_argument("--embed-model", help="sentence-transformers model or folder (ASSISTANT_EMBED_MODEL)")
    common.add_argument("--no-progress", action="store_true", help="hide progress bars (ASSISTANT_PROGRESS=0)")

    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="index files and folders")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the corpus folder)")
    p.add_argument("--prune", action="store_true", help="remove documents whose files are gone")
    p.add_argument("--rebuild", action="store_true", help="start the index afresh (after a model change)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", parents=[common], help="answer one question")
    p.add_argument("question")
    p.add_argument("--top-k", type=int, help="passages to retrieve (ASSISTANT_TOP_K, default 5)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", parents=[common], help="a conversation with follow-ups")
    p.add_argument("--top-k", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", parents=[common], help="score answers on a question set")
    p.add_argument("questions", nargs="*", type=Path, help="JSONL question files (default: the shipped set)")
    p.add_argument("--out", default="eval-out", help="folder for records.jsonl and summary.json")
    p.add_argument("--calibrate", action="store_true", help="also fit the refusal threshold (min_support)")
    p.add_argument("--top-k", type=int)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("prepare", parents=[common], help="prepare the embedding model (offline conversion)")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("docs", parents=[common], help="list indexed documents, or remove one")
    p.add_argument("--remove", metavar="SOURCE", help="remove this document from the index")
    p.set_defaults(func=cmd_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for bad input, 1 for anything unexpected)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except AssistantError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the CLI never shows a traceback; ASSISTANT_DEBUG=1 re-raises
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        print(f"error: unexpected {type(error).__name__}: {error}. Set ASSISTANT_DEBUG=1 for details.",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

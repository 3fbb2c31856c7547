"""Evaluation runs on real data: the engine behind ``assistant eval``. It drives an :class:`Assistant`,
so it sits above the API, like the CLI (the scoring it uses is pure, in :mod:`.scoring`).

``assistant eval`` (:func:`run_eval`) asks a question set of our pipeline and, with ``--compare``,
runs dense-only, BM25-only and vanilla llama-index on the same documents and questions in the same
process. A SQuAD-format set (XQuAD) becomes a fresh temporary index, one file per paragraph,
through the real ingest path.

The performance harness behind ``assistant bench`` is :mod:`.performance`.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..answer.reader.model import Reader
from ..api import Assistant
from ..config import Settings
from ..errors import ConfigError
from ..eval import metrics
from ..eval.calibration import calibrate_threshold
from ..eval.llm_report import llm_summary, write_llm_report
from ..eval.questions import DEPTH, Question, SquadSet, default_question_files, load_questions, load_squad
from ..eval.reports import answer_changes, read_records, summary_table, write_records
from ..eval.runs import run_retrieval
from ..eval.scoring import Record, near_misses, summarize
from ..models.embeddings import Embedder
from ..text.normalize import detect_language
from ..types import IndexReport
from .baselines import Bm25Only, DenseOnly, VanillaLlamaIndex, corpus_chunks

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

SYSTEMS = ("ours", "dense-only", "BM25-only", "vanilla llama-index")


# == assistant eval ================================================================================

@dataclass
class EvalOutcome:
    """What one ``assistant eval`` run produced."""

    runs: dict[str, list[Record]]
    summary: dict[str, Any]
    table: str
    files: dict[str, Path] = field(default_factory=dict)


def squad_assistant(squad: SquadSet, folder: Path, settings: Settings, embedder: Embedder | None = None,
                    progress: bool = True, llm: LLM | None = None) -> tuple[Assistant, IndexReport]:
    """A fresh index of a SQuAD set's paragraphs (one file each) in ``folder``, through the real ingest."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in squad.paragraphs.items():
        (corpus / name).write_text(text, encoding="utf-8")
    bot = Assistant(settings.replace(index_dir=folder / "index", corpus_dir=corpus, progress=progress),
                    embedder=embedder, llm=llm)
    report = bot.index([corpus], progress=progress)
    return bot, report


def evaluate_systems(bot: Assistant, questions: list[Question], compare: bool = False,
                     progress: bool = True, mode: str | None = None) -> dict[str, list[Record]]:
    """Records of our pipeline, and with ``compare`` of the baselines, on the same questions.

    Ours is asked for ``DEPTH`` passages so MRR@10 and nDCG@10 see ten; its answer reads only the
    first few, so the answer is the one a user gets. The baselines: the sentence picker alone (our
    pipeline without the reader), dense-only, BM25-only and vanilla llama-index retrieval.
    """
    chunks = corpus_chunks(bot)
    runs = {"ours": bot.answer_questions(questions, progress, mode=mode, corpus=chunks)}
    if compare and bot.parts.reader_answerer is not None:
        picker = Assistant(bot.settings.replace(reader={"adapter": ""}), embedder=bot.parts.embedder,
                           glossary=bot.parts.glossary)
        runs["sentence picker"] = [replace(r, system="sentence picker") for r in
                                   picker.answer_questions(questions, progress, mode=mode, corpus=chunks)]
    if compare:
        dense = DenseOnly(bot, chunks)
        runs[dense.name] = run_retrieval(questions, dense.search, chunks, dense.name, progress)
        bm25 = Bm25Only(chunks)
        runs[bm25.name] = run_retrieval(questions, bm25.search, chunks, bm25.name, progress)
        if not bot.settings.corpus_dir.is_dir():
            raise ConfigError(
                f"The vanilla llama-index baseline reads the documents themselves from the corpus folder "
                f"{bot.settings.corpus_dir}, which does not exist; pass --corpus-dir with the indexed documents."
            )
        vanilla = VanillaLlamaIndex(bot.settings.corpus_dir, progress=False)
        runs[vanilla.name] = run_retrieval(questions, vanilla.search, vanilla.corpus, vanilla.name, progress)
    return runs


def plot_hit_curves(runs: dict[str, list[Record]], path: Path, title: str = "") -> Path | None:
    """A PNG of hit@k (k = 1..10) per system, one panel per question language; ``None`` without gold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves: dict[str, dict[str, list[float]]] = {}
    for name, records in runs.items():
        for lang, curve in summarize(records).get("hit_curve", {}).items():
            curves.setdefault(lang, {})[name] = curve
    panels = [lang for lang in curves if lang != "all"] or ["all"]
    if not curves:
        return None
    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for axis, lang in zip(axes[0], panels, strict=True):
        for name, curve in curves[lang].items():
            axis.plot(range(1, len(curve) + 1), curve, marker="o", label=name)
        axis.set_title(f"{lang} questions" if lang != "all" else "all questions")
        axis.set_xlabel("k")
        axis.set_ylabel("hit@k")
        axis.set_ylim(0, 1.02)
        axis.set_xticks(range(1, DEPTH + 1))
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right", fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")


def write_eval(runs: dict[str, list[Record]], summary: dict[str, Any], table: str, out_dir: Path,
               title: str) -> dict[str, Path]:
    """Write records (``records.jsonl`` for ours, ``records-<system>.jsonl`` for the others),
    ``summary.json``, ``summary.md`` and ``hit-at-k.png``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    previous = out_dir / "records.jsonl"
    if "ours" in runs and previous.exists():  # what changed since the last run into this folder
        try:
            before = read_records(previous)
        except ConfigError:
            before = []
        files["changes"] = out_dir / "changes.md"
        files["changes"].write_text(answer_changes(before, runs["ours"]), encoding="utf-8")
    for name, records in runs.items():
        filename = "records.jsonl" if name == "ours" else f"records-{_slug(name)}.jsonl"
        files[f"records ({name})"] = write_records(records, out_dir / filename)
    files["summary"] = out_dir / "summary.json"
    files["summary"].write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    files["table"] = out_dir / "summary.md"
    files["table"].write_text(f"# {title}\n\n{table}", encoding="utf-8")
    plot = plot_hit_curves(runs, out_dir / "hit-at-k.png", title)
    if plot is not None:
        files["plot"] = plot
    return files


def read_gold_paragraphs(reader: Reader, data: SquadSet, questions: Sequence[Question], batch: int = 16,
                         progress: bool = True) -> dict[str, Any]:
    """The reader alone, given each question's gold paragraph: SQuAD EM and F1 of its best span, per
    question language, comparable to published readers' XQuAD figures (docs/reader.md)."""
    from tqdm.auto import tqdm

    answerable = [q for q in questions if q.answerable and q.gold_sources and q.answers]
    scores: dict[str, list[tuple[float, float]]] = {}
    for start in tqdm(range(0, len(answerable), batch), desc="Reading gold paragraphs", disable=not progress,
                      delay=1.0):
        part = answerable[start : start + batch]
        readings = reader.read_pairs([(q.question, [data.paragraphs[q.gold_sources[0]]]) for q in part])
        for q, reading in zip(part, readings, strict=True):
            context = data.paragraphs[q.gold_sources[0]]
            best = reading.spans[0] if reading.spans else None
            text = context[best.start:best.end] if best is not None else ""
            lang = detect_language(q.answers[0])
            scores.setdefault(q.lang, []).append((metrics.best_over_truths("em", text, q.answers, lang),
                                                  metrics.best_over_truths("f1", text, q.answers, lang)))
    summary: dict[str, Any] = {}
    for lang, values in sorted(scores.items()):
        summary[f"gold_paragraph_em_{lang}"] = round(100 * sum(v[0] for v in values) / len(values), 1)
        summary[f"gold_paragraph_f1_{lang}"] = round(100 * sum(v[1] for v in values) / len(values), 1)
        summary[f"gold_paragraph_questions_{lang}"] = len(values)
    return summary


#: Weights of the reader's margin tried beside the retrieval support when calibrating refusal.
MARGIN_WEIGHTS = (0.0, 0.002, 0.004, 0.006, 0.008, 0.012, 0.016, 0.024, 0.032, 0.05, 0.1, 0.25, 1.0)


def calibrate_reader_thresholds(records: Sequence[Record], pooled: Sequence[Record] = ()) -> dict[str, Any]:
    """One margin weight and two refusal thresholds for the reader, for questions on text in their own
    language and across languages (see :meth:`assistant.answer.reader.answering.ReaderAnswerSettings.evidence`).

    For each weight of :data:`MARGIN_WEIGHTS`, each language's threshold is fitted as the support
    threshold is (:func:`calibrate_threshold`: each set's false refusals at most 5%); the weight whose
    thresholds score best (refusal accuracy minus twice the false-refusal rate, summed over the
    two groups) wins.
    """
    groups = {"same": lambda r: r.across is False, "across": lambda r: r.across is True}
    best: tuple[float, float, dict[str, Any]] = (float("-inf"), 0.0, {})
    for weight in MARGIN_WEIGHTS:
        def evidence(r: Record, w: float = weight) -> float | None:
            return None if r.reader_margin is None else r.support + w * r.reader_margin

        total, fitted = 0.0, {}
        for group, member in groups.items():
            threshold, effect = calibrate_threshold([r for r in records if member(r)],
                                                    [r for r in pooled if member(r)], value=evidence)
            if not effect:
                continue
            total += effect.get("refusal_accuracy", 0.0) - 2 * effect["false_refusal_rate"]
            fitted[f"calibrated_reader_min_evidence_{group}"] = round(threshold, 4)
            fitted[f"calibrated_reader_effect_{group}"] = effect
        if total > best[0] + 1e-9:
            best = (total, weight, fitted)
    return {"calibrated_reader_margin_weight": best[1], **best[2]} if best[2] else {}


def run_eval(settings: Settings, out_dir: Path, *, question_files: Sequence[Path] = (), squad: Path | None = None,
             questions_from: Sequence[Path] = (), limit: int | None = None, compare: bool = False,
             calibrate: bool = False, pool: Sequence[Path] = (), embedder: Embedder | None = None,
             mode: str | None = None, calibrate_reader: bool = False, near_miss: bool = False,
             llm: LLM | None = None) -> EvalOutcome:
    """Run ``assistant eval``: our set (default), JSONL files, or a SQuAD file in a temporary index.

    Args:
        settings: The assistant's settings (for SQuAD, its index and corpus folders are replaced).
        out_dir: Where records, summary, table and plot go.
        question_files: JSONL question sets over the assistant's own index; the shipped set when
            empty and no ``squad`` is given.
        squad: A SQuAD-format file whose paragraphs become a fresh temporary index.
        questions_from: Parallel SQuAD files whose questions are asked instead (cross-lingual).
        limit: Only the first ``limit`` questions of each file.
        compare: Also run dense-only, BM25-only and vanilla llama-index.
        calibrate: Refuse nothing on support and fit the refusal threshold per language.
        pool: Records of earlier ``calibrate`` runs (e.g. XQuAD's) pooled into the calibration:
            the threshold must keep each set's false refusals under the cap.
        embedder: An already-loaded embedder to share.
        mode: The answer mode scored (``llm`` or ``extractive``; the assistant's default when ``None``).
        calibrate_reader: Refuse nothing on the reader's margin and fit its threshold per language
            (pooled with ``pool`` like ``calibrate``).
        near_miss: With ``squad``, also ask every question without its gold paragraph, as an
            unanswerable near miss (see :func:`assistant.eval.scoring.near_misses`).
        llm: A llama-index LLM to answer with instead of the one ``settings.llm`` names
            (``benchmarks/bench_llm.py`` records a real model's replies, and replays them).

    Raises:
        ConfigError: ``questions_from`` without ``squad``, or both ``squad`` and JSONL files, or an
            unknown mode, or ``pool`` without ``calibrate`` or with unreadable records.
    """
    if questions_from and squad is None:
        raise ConfigError("--questions-from needs --squad FILE: the questions are asked against its paragraphs.")
    if squad is not None and question_files:
        raise ConfigError("Give either --squad FILE or JSONL question files, not both.")
    if pool and not (calibrate or calibrate_reader):
        raise ConfigError("--pool adds earlier records to a calibration: use it with --calibrate or "
                          "--calibrate-reader.")
    if near_miss and squad is None:
        raise ConfigError("--near-miss asks SQuAD questions without their gold paragraph: use it with --squad FILE.")
    pooled = [r for path in pool for r in read_records(Path(path))]
    if calibrate:
        settings = settings.replace(answer={"min_support_ar": float("-inf"), "min_support_en": float("-inf")})
    if calibrate_reader:
        settings = settings.replace(reader={"min_evidence_same": float("-inf"),
                                             "min_evidence_across": float("-inf")})
    gold_reading: dict[str, Any] = {}
    progress = settings.progress
    setup: dict[str, Any] = {"embed_model": settings.embed_model, "depth": DEPTH, "mode": mode or "default"}
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as tmp:
        if squad is not None:
            data = load_squad(squad, questions_from, limit)
            started = time.perf_counter()
            bot, report = squad_assistant(data, Path(tmp), settings, embedder, progress, llm)
            questions = data.questions + (near_misses(data.questions) if near_miss else [])
            reader_answerer = bot.parts.reader_answerer
            if reader_answerer is not None and isinstance(reader_answerer.reader, Reader):
                gold_reading = read_gold_paragraphs(reader_answerer.reader, data, data.questions, progress=progress)
            sources = ", ".join(p.name for p in questions_from) if questions_from else squad.name
            title = f"SQuAD eval: {squad.name} paragraphs, questions from {sources}"
            setup.update({"set": title, "paragraphs": len(data.paragraphs), "chunks": report.chunks_added,
                          "index_seconds": round(time.perf_counter() - started, 1),
                          "skipped": [reason for _, reason in report.skipped]})
        else:
            files = [Path(p) for p in question_files] or default_question_files()
            questions = [q for path in files for q in load_questions(path)[:limit]]
            bot = Assistant(settings, embedder=embedder, llm=llm)
            bot.ensure_index()
            title = "Question set: " + ", ".join(p.name for p in files)
            setup.update({"set": title, "corpus": str(settings.corpus_dir), "index": str(settings.index_dir)})
        runs = evaluate_systems(bot, questions, compare=compare, progress=progress, mode=mode)
    summary = summarize(runs["ours"])
    summary.update(gold_reading)
    if calibrate_reader:
        summary.update(calibrate_reader_thresholds(runs["ours"], pooled))
    if calibrate:
        for lang in sorted({r.lang for r in runs["ours"]}):
            threshold, effect = calibrate_threshold([r for r in runs["ours"] if r.lang == lang],
                                                    [r for r in pooled if r.lang == lang])
            if not effect:
                summary[f"calibrated_min_support_{lang}"] = (
                    "not fitted: calibration needs answerable questions in this language")
                continue
            summary[f"calibrated_min_support_{lang}"] = threshold
            summary[f"calibrated_effect_{lang}"] = effect
    if compare:
        summary["compare"] = {name: summarize(records) for name, records in runs.items() if name != "ours"}
    summary["setup"] = setup
    llm = llm_summary(runs["ours"])
    if llm:
        summary["llm"] = llm
    table = summary_table(runs)
    files = write_eval(runs, summary, table, out_dir, title)
    if llm:
        files["LLM sentences through verification"] = write_llm_report(runs["ours"], out_dir / "llm-report.md")
    return EvalOutcome(runs, summary, table, files)


# == assistant bench ===============================================================================

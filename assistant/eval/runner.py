"""Evaluation runs and benchmarks on real data: the engines behind ``assistant eval`` and ``assistant bench``.

``assistant eval`` (:func:`run_eval`) asks a question set of our pipeline and, with ``--compare``,
runs dense-only, BM25-only and vanilla llama-index on the same documents and questions in the same
process. A SQuAD-format set (XQuAD) becomes a fresh temporary index, one file per paragraph,
through the real ingest path.

``assistant bench`` (:func:`run_bench`) measures:

- index throughput on the 480 XQuAD paragraphs (Arabic and English), against the embedders
  alone on exactly the texts indexing asked them to embed;
- warm ``ask`` latency, peak memory and cold start at 1k, 10k and 100k chunks. The corpora are
  built from real text: every XQuAD-ar and XQuAD-en paragraph, sentence, run of consecutive
  sentences and comma clause (11,576 distinct passages of 20-1000 characters), one passage per line (= one chunk).
  Up to the size of that pool every chunk is distinct and every vector is the real embedding of
  its text. Beyond it (100k) the pool is repeated under new ids (each copy reshuffled into other
  files) and the repeats reuse the real vectors of their text with a small random perturbation
  (cosine ≈ 0.995 to the original), because embedding 100k chunks and their sentences on two
  cores would take hours. Every ``ask`` is real: its question and sentence embeddings, the
  vector search over all chunks and the BM25 over all chunks are computed at query time.
  Each size is built in one subprocess and served from a fresh one, so peak memory and cold
  start are per size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..answer.reader.model import Reader
from ..api import Assistant
from ..config import Settings
from ..errors import ConfigError
from ..index.embeddings import Embedder
from ..text.normalize import detect_language, split_clauses, split_sentences
from ..types import IndexReport
from . import metrics
from .baselines import Bm25Only, DenseOnly, VanillaLlamaIndex, corpus_chunks
from .llm_report import llm_summary, write_llm_report
from .metrics import percentile
from .scoring import (
    DEPTH,
    Question,
    Record,
    SquadSet,
    calibrate_threshold,
    default_question_files,
    load_questions,
    load_squad,
    near_misses,
    read_records,
    run_retrieval,
    summarize,
    summary_table,
    write_records,
)

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

DEFAULT_XQUAD = Path(__file__).resolve().parents[3] / "shared" / "data" / "xquad"
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
    if compare and bot.reader_answerer is not None:
        picker = Assistant(bot.settings.replace(reader=""), embedder=bot.embedder, glossary=bot.glossary)
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
    question language. Comparable to published readers (mBERT 61.5, XLM-R Large 68.6 F1 on XQuAD-ar)."""
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
        settings = settings.replace(min_support_ar=float("-inf"), min_support_en=float("-inf"))
    if calibrate_reader:
        settings = settings.replace(reader_min_evidence_same=float("-inf"), reader_min_evidence_across=float("-inf"))
    gold_reading: dict[str, Any] = {}
    progress = settings.progress
    setup: dict[str, Any] = {"embed_model": settings.embed_model, "depth": DEPTH, "mode": mode or "default"}
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as tmp:
        if squad is not None:
            data = load_squad(squad, questions_from, limit)
            started = time.perf_counter()
            bot, report = squad_assistant(data, Path(tmp), settings, embedder, progress, llm)
            questions = data.questions + (near_misses(data.questions) if near_miss else [])
            reader_answerer = bot.reader_answerer
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

def rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    Read from ``VmHWM`` in ``/proc/self/status``: ``getrusage``'s ``ru_maxrss`` survives
    ``execve`` on Linux, so a benchmark subprocess would report its parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def xquad_paragraphs(xquad_dir: Path) -> dict[str, str]:
    """Every XQuAD-ar and XQuAD-en paragraph, named ``{lang}-p{article}-{paragraph}.txt``.

    Raises:
        ConfigError: The folder lacks ``xquad.ar.json`` or ``xquad.en.json``.
    """
    paragraphs = {}
    for lang in ("ar", "en"):
        path = Path(xquad_dir) / f"xquad.{lang}.json"
        if not path.exists():
            raise ConfigError(f"No {path.name} in {xquad_dir}; pass --xquad-dir with xquad.ar.json and xquad.en.json.")
        for name, text in load_squad(path, limit=0).paragraphs.items():
            paragraphs[f"{lang}-{name}"] = text
    return paragraphs


def passage_pool(paragraphs: Sequence[str], max_chars: int = 1000) -> list[str]:
    """Distinct real passages: each paragraph, sentence, run of consecutive sentences and clause.

    One passage per line makes one chunk, so passages are single-line and at most ``max_chars``
    (under the 1200-character chunk limit). The order is shuffled with a fixed seed so that any
    prefix mixes languages and passage kinds.
    """
    pool: dict[str, None] = {}
    for paragraph in paragraphs:
        flat = " ".join(paragraph.split())
        candidates = [flat] + [c.text for c in split_clauses(flat)]
        sentences = [s.text for s in split_sentences(flat)]
        for width in range(1, len(sentences) + 1):
            candidates += [" ".join(sentences[i:i + width]) for i in range(len(sentences) - width + 1)]
        for text in candidates:
            if 20 <= len(text) <= max_chars:
                pool.setdefault(text, None)
    texts = list(pool)
    random.Random(0).shuffle(texts)
    return texts


def write_corpus(folder: Path, pool: Sequence[str], size: int, per_file: int = 100) -> int:
    """Write ``size`` passages, one per line, ``per_file`` lines per file; returns the copies of the pool used.

    Copy 0 is the pool in order; each further copy is the pool reshuffled (seeded by the copy
    number), so every file differs and is indexed, while its lines repeat earlier texts.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written, copy = 0, 0
    while written < size:
        texts = list(pool)
        if copy:
            random.Random(copy).shuffle(texts)
        texts = texts[:size - written]
        for number, lo in enumerate(range(0, len(texts), per_file)):
            (folder / f"c{copy:02d}-{number:04d}.txt").write_text("\n".join(texts[lo:lo + per_file]) + "\n",
                                                                  encoding="utf-8")
        written += len(texts)
        copy += 1
    return copy


class VectorCache:
    """Real vectors of texts already embedded, per model, kept on disk between runs (``.npz``)."""

    def __init__(self, folder: Path, model_name: str) -> None:
        self.path = Path(folder) / f"{_slug(model_name)}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        self.dim = 0
        if self.path.exists():
            data = np.load(self.path)
            self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
            self.dim = int(data["vectors"].shape[1]) if len(data["keys"]) else 0

    @staticmethod
    def key(text: str) -> str:
        """The cache key of a text."""
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def save(self) -> None:
        """Write the cache (atomically)."""
        if not self.vectors:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(list(self.vectors)), vectors=np.stack(list(self.vectors.values())))
        os.replace(tmp, self.path)


class CachedEmbedder:
    """An embedder that serves vectors of texts it has seen from a :class:`VectorCache`.

    Texts not in the cache are embedded by the real model (loaded on first need) and added.
    With ``perturb`` set, every occurrence of a text after its first gets the real vector plus
    Gaussian noise of that total norm, re-normalised: the repeats of a replicated corpus are
    near-duplicates, not identical points. Used only to *build* benchmark indexes.
    """

    def __init__(self, name: str, load: Callable[[], Embedder], cache: VectorCache, perturb: float = 0.0,
                 precision: str = "fp32") -> None:
        self.name = name
        self.precision = precision  # of the vectors in the cache
        self._load = load
        self._model: Embedder | None = None
        self._cache = cache
        self._perturb = perturb
        self._seen: dict[str, int] = {}
        self.embedded = 0
        self.seconds = 0.0
        self.dim = cache.dim or self._real().dim

    def _real(self) -> Embedder:
        if self._model is None:
            self._model = self._load()
        return self._model

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Cached (or freshly embedded) unit vectors, perturbed for repeats when asked."""
        keys = [VectorCache.key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache.vectors))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            started = time.perf_counter()
            fresh = self._real().embed_passages([by_key[k] for k in missing])
            self.seconds += time.perf_counter() - started
            self.embedded += len(missing)
            self._cache.vectors.update(zip(missing, np.asarray(fresh, dtype=np.float32), strict=True))
        rows = []
        for key in keys:
            vector = self._cache.vectors[key]
            seen = self._seen.get(key, 0)
            self._seen[key] = seen + 1
            if self._perturb and seen:
                rng = np.random.default_rng([int(key[:8], 16), seen])
                noise = rng.standard_normal(vector.shape[0]).astype(np.float32)
                vector = vector + self._perturb * noise / np.linalg.norm(noise)
                vector = vector / np.linalg.norm(vector)
            rows.append(vector)
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Real query vectors (never cached)."""
        return self._real().embed_queries(texts)

    def __getattr__(self, name: str) -> Any:
        # Anything else the pipeline may ask of an embedder comes from the real model.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._real(), name)


class TimedEmbedder:
    """Wraps an embedder, timing its passage calls and keeping the batches it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.precision = inner.precision
        self.seconds = 0.0
        self.batches: list[list[str]] = []
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """The inner embedder's vectors, timed."""
        started = time.perf_counter()
        vectors = self.inner.embed_passages(texts)
        with self._lock:
            self.seconds += time.perf_counter() - started
            self.batches.append(list(texts))
        return vectors

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """The inner embedder's query vectors (not timed)."""
        return self.inner.embed_queries(texts)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


def measure_throughput(paragraphs: dict[str, str], settings: Settings, folder: Path,
                       progress: bool = True) -> dict[str, Any]:
    """Index the paragraphs through the real pipeline, then embed the same texts with the models alone.

    Returns:
        Chunks, seconds, chunks/s, the share of indexing time spent embedding, each embedder's
        texts/s alone, and indexing throughput as a fraction of the embedders alone, by wall
        time and by this process's CPU time (other processes on a shared machine inflate wall
        time but not CPU time; the load average is recorded beside them).
    """
    from ..index.embeddings import load_embedder, load_second_embedder

    primary = load_embedder(settings.embed_model, settings.model_cache, progress=progress,
                            precision=settings.precision)
    second_name = getattr(settings, "second_embedder", "")
    second = load_second_embedder(second_name) if second_name else None
    for model in (primary, second):
        if model is not None:
            model.embed_passages(["warm up", "تسخين"])
    timed = [TimedEmbedder(primary)] + ([TimedEmbedder(second)] if second is not None else [])
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in paragraphs.items():
        (corpus / name).write_text(text, encoding="utf-8")
    kwargs: dict[str, Any] = {"embedder": timed[0]}
    if second is not None:
        kwargs["second_embedder"] = timed[1]
    bot = Assistant(settings.replace(index_dir=folder / "index", corpus_dir=corpus, progress=progress), **kwargs)
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    report = bot.index([corpus], progress=progress)
    index_seconds, index_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    embed_seconds = sum(t.seconds for t in timed)

    alone: dict[str, Any] = {}
    total_alone = total_alone_cpu = 0.0
    for wrapper in timed:
        texts = sum(len(b) for b in wrapper.batches)
        started, cpu_started = time.perf_counter(), time.process_time()
        for batch in wrapper.batches:
            wrapper.inner.embed_passages(batch)
        seconds = time.perf_counter() - started
        total_alone += seconds
        total_alone_cpu += time.process_time() - cpu_started
        alone[wrapper.name] = {"texts": texts, "seconds": round(seconds, 2),
                               "texts_per_s": round(texts / seconds, 1) if seconds else None}
    chunk_texts = [chunk.text for chunk, _ in bot.store.iter_chunks()]
    started = time.perf_counter()
    for lo in range(0, len(chunk_texts), 256):
        primary.embed_passages(chunk_texts[lo:lo + 256])
    e5_chunks_alone = time.perf_counter() - started
    chunks = report.chunks_added
    return {
        "documents": len(report.added), "chunks": chunks,
        "texts_embedded": {w.name: sum(len(b) for b in w.batches) for w in timed},
        "index_seconds": round(index_seconds, 2),
        "index_chunks_per_s": round(chunks / index_seconds, 2),
        "embedding_seconds_in_index": round(embed_seconds, 2),
        "embedding_share": round(embed_seconds / index_seconds, 3),
        "embedders_alone": alone,
        "index_vs_embedders_alone": round(total_alone / index_seconds, 3),
        "index_vs_embedders_alone_cpu_time": round(total_alone_cpu / index_cpu, 3) if index_cpu else None,
        "e5_chunks_only_per_s": round(len(chunk_texts) / e5_chunks_alone, 2),
        "index_vs_e5_on_chunks_alone": round(e5_chunks_alone / index_seconds, 3),
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def _cache_encoders(settings: Settings, cache_dir: Path, perturb: float) -> dict[str, CachedEmbedder]:
    from ..index.embeddings import load_embedder, load_second_embedder
    from ..index.precision import runnable

    precision = runnable(settings.precision).name  # cached per precision: vectors of two must not mix
    encoders = {"embedder": CachedEmbedder(
        settings.embed_model,
        lambda: load_embedder(settings.embed_model, settings.model_cache, progress=False, precision=precision),
        VectorCache(cache_dir, f"{settings.embed_model}-{precision}"), perturb, precision=precision)}
    second_name = getattr(settings, "second_embedder", "")
    if second_name:
        probe = load_second_embedder(second_name)
        assert probe is not None
        encoders["second_embedder"] = CachedEmbedder(probe.name, lambda: probe, VectorCache(cache_dir, probe.name),
                                                     perturb)
    return encoders


def build_index(corpus: Path, index_dir: Path, cache_dir: Path, perturb: float) -> dict[str, Any]:
    """Index a benchmark corpus with cached real vectors (run in its own process)."""
    settings = Settings.from_env(index_dir=index_dir, corpus_dir=corpus, progress=False)
    encoders = _cache_encoders(settings, cache_dir, perturb)
    bot = Assistant(settings, **encoders)  # type: ignore[arg-type]
    started = time.perf_counter()
    report = bot.index([corpus], progress=False)
    seconds = time.perf_counter() - started
    for encoder in encoders.values():
        encoder._cache.save()
    return {"chunks": bot.store.count(), "chunks_added": report.chunks_added, "build_seconds": round(seconds, 1),
            "embedded_fresh": {e.name: e.embedded for e in encoders.values()},
            "embedding_seconds": round(sum(e.seconds for e in encoders.values()), 1),
            "build_peak_rss_mb": rss_mb()}


def serve(index_dir: Path, questions: list[str], launched_at: float, warmup: int = 3) -> dict[str, Any]:
    """Open an index in this fresh process, answer once (cold start, by step), then time warm asks.

    Cold start runs from the parent launching this process to the first answer: interpreter and
    imports, loading the models, opening the index, building BM25, and the first ask.
    """
    entered = time.time()
    settings = Settings.from_env(index_dir=index_dir, corpus_dir=index_dir / "no-corpus", progress=False)
    bot = Assistant(settings)
    steps: dict[str, float] = {}
    started = time.perf_counter()
    _ = bot.encoders if hasattr(type(bot), "encoders") else bot.embedder  # load the models
    steps["load_models_s"] = time.perf_counter() - started
    started = time.perf_counter()
    bot.store.count()
    steps["open_index_s"] = time.perf_counter() - started
    started = time.perf_counter()
    bot.retriever.lexical_index()
    steps["build_bm25_s"] = time.perf_counter() - started
    started = time.perf_counter()
    bot.ask(questions[0])
    steps["first_ask_s"] = time.perf_counter() - started
    cold = time.time() - launched_at
    for question in questions[1:1 + warmup]:
        bot.ask(question)
    latencies = []
    for question in questions[1 + warmup:]:
        started = time.perf_counter()
        bot.ask(question)
        latencies.append((time.perf_counter() - started) * 1000)
    return {"chunks": bot.store.count(), "cold_start_s": round(cold, 2),
            "python_start_and_imports_s": round(entered - launched_at, 2),
            **{k: round(v, 2) for k, v in steps.items()},
            "asks": len(latencies), "ask_ms_p50": round(percentile(latencies, 50), 1),
            "ask_ms_p95": round(percentile(latencies, 95), 1), "ask_ms_mean": round(float(np.mean(latencies)), 1),
            "serve_peak_rss_mb": rss_mb()}


def _subprocess(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    launched = time.time()
    command = [sys.executable, "-m", "assistant.eval.runner", *args, "--launched-at", repr(launched)]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:1])} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_questions(xquad_dir: Path, count: int) -> list[str]:
    """Real questions, Arabic and English alternating (the first one answers the cold start)."""
    ar = [q.question for q in load_squad(Path(xquad_dir) / "xquad.ar.json").questions]
    en = [q.question for q in load_squad(Path(xquad_dir) / "xquad.en.json").questions]
    rng = random.Random(1)
    ar, en = rng.sample(ar, len(ar)), rng.sample(en, len(en))
    return [q for pair in zip(ar, en, strict=False) for q in pair][:count]


def plot_latency(rows: list[dict[str, Any]], path: Path) -> Path:
    """A PNG of ask latency (p50, p95) against corpus size, log-scaled chunks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    sizes = [r["chunks"] for r in rows]
    axis.plot(sizes, [r["ask_ms_p50"] for r in rows], marker="o", label="p50")
    axis.plot(sizes, [r["ask_ms_p95"] for r in rows], marker="s", label="p95")
    axis.axhline(300, color="grey", linestyle="--", linewidth=1, label="target p50 300 ms")
    axis.set_xscale("log")
    axis.set_xlabel("chunks in the index")
    axis.set_ylabel("warm ask latency (ms)")
    axis.set_title("ask latency vs index size (2 cores)")
    axis.grid(alpha=0.3, which="both")
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def bench_table(rows: list[dict[str, Any]]) -> str:
    """The latency-vs-size Markdown table."""
    lines = ["| chunks | vectors | warm ask p50 ms | p95 ms | cold start s | of which: models, BM25, 1st ask s "
             "| serve peak RSS MB | build s | build peak RSS MB |", "|---:|---|---:|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        steps = f"{r.get('load_models_s', 0):.1f}, {r.get('build_bm25_s', 0):.1f}, {r.get('first_ask_s', 0):.1f}"
        lines.append(f"| {r['chunks']:,} | {r['vectors']} | {r['ask_ms_p50']:.0f} | {r['ask_ms_p95']:.0f} | "
                     f"{r['cold_start_s']:.1f} | {steps} | {r['serve_peak_rss_mb']:.0f} | "
                     f"{r['build_seconds']:.0f} | {r['build_peak_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def run_bench(settings: Settings, out_dir: Path, xquad_dir: Path | None = None,
              sizes: Sequence[int] = (1_000, 10_000, 100_000), questions: int = 40,
              cache_dir: Path | None = None, throughput: bool = True,
              log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run ``assistant bench`` and write ``bench.json``, ``bench.md`` and ``latency-vs-size.png``.

    Args:
        settings: The assistant's settings (models; index folders are temporary).
        out_dir: Where the results go.
        xquad_dir: The folder with ``xquad.ar.json`` and ``xquad.en.json`` (default: ../shared/data/xquad).
        sizes: Corpus sizes in chunks.
        questions: Real XQuAD questions per size (3 more warm up, one answers the cold start).
        cache_dir: Where real vectors of the pool are kept between runs.
        throughput: Also measure index throughput.
        log: Progress messages.
    """
    xquad_dir = Path(xquad_dir) if xquad_dir else DEFAULT_XQUAD
    paragraphs = xquad_paragraphs(xquad_dir)
    pool = passage_pool(list(paragraphs.values()))
    cache_dir = Path(cache_dir) if cache_dir else settings.model_cache.parent / "bench-vectors"
    asked = bench_questions(xquad_dir, questions + 4)
    env = dict(os.environ, HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false")
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "corpus": {
            "paragraphs": len(paragraphs), "pool_passages": len(pool),
            "how": "XQuAD-ar and XQuAD-en (the only XQuAD languages here): every paragraph, sentence, run of "
                   "consecutive sentences and comma clause, 20-1000 characters, deduplicated; one per line = "
                   "one chunk. Sizes up to the pool are all distinct real passages with their real vectors. "
                   "Larger sizes repeat the pool under new ids (reshuffled into other files); repeats reuse "
                   "the real vectors of their text plus small noise (cosine about 0.995). Queries, sentence "
                   "vectors at answer time, vector search and BM25 are all real.",
        },
    }
    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        if throughput:
            log(f"index throughput: {len(paragraphs)} XQuAD paragraphs through the real pipeline ...")
            results["throughput"] = measure_throughput(paragraphs, settings, Path(tmp) / "throughput",
                                                       settings.progress)
            log(json.dumps(results["throughput"]))
        questions_file = Path(tmp) / "questions.json"
        questions_file.write_text(json.dumps(asked, ensure_ascii=False), encoding="utf-8")
        rows = []
        for size in sizes:
            folder = Path(tmp) / f"size-{size}"
            copies = write_corpus(folder / "corpus", pool, size)
            log(f"{size:,} chunks: building ({copies} cop{'y' if copies == 1 else 'ies'} of the pool) ...")
            built = _subprocess(["_build", "--corpus", str(folder / "corpus"), "--index", str(folder / "index"),
                                 "--cache", str(cache_dir), "--perturb", "0.1" if copies > 1 else "0"], env)
            log(f"  built: {json.dumps(built)}")
            served = _subprocess(["_serve", "--index", str(folder / "index"), "--questions", str(questions_file)],
                                 env)
            log(f"  served: {json.dumps(served)}")
            vectors = "real" if copies == 1 else f"real for {len(pool):,}, repeats perturbed"
            rows.append({"size": size, "vectors": vectors, **built, **served})
            shutil.rmtree(folder, ignore_errors=True)  # a 100k-chunk index takes disk space
    results["sizes"] = rows
    out_dir.mkdir(parents=True, exist_ok=True)
    table = bench_table(rows) if rows else ""
    (out_dir / "bench.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    throughput_md = ""
    if "throughput" in results:
        t = results["throughput"]
        throughput_md = (
            f"## Index throughput ({t['documents']} XQuAD paragraphs, {t['chunks']} chunks)\n\n"
            f"- index: {t['index_chunks_per_s']} chunks/s ({t['index_seconds']} s), "
            f"{t['embedding_share']:.0%} of it embedding\n"
            f"- embedders alone on the same texts: " + ", ".join(
                f"{name} {v['texts_per_s']} texts/s ({v['texts']} texts)" for name, v in t["embedders_alone"].items())
            + f"\n- indexing vs the embedders alone on the same texts: {t['index_vs_embedders_alone']:.2f} by wall "
            f"time, {t['index_vs_embedders_alone_cpu_time']} by CPU time (load average "
            f"{t['load_average_before_after']}); vs e5 on the chunk texts only: "
            f"{t['index_vs_e5_on_chunks_alone']:.2f}\n\n")
    (out_dir / "bench.md").write_text(
        "# assistant bench\n\n" + throughput_md + "## ask latency vs size\n\n" + table + "\n"
        + results["corpus"]["how"] + " Build times reuse real vectors cached by earlier runs (texts already "
        "embedded are not embedded again); the throughput section above is the uncached figure.\n",
        encoding="utf-8")
    if rows:
        results["plot"] = str(plot_latency(rows, out_dir / "latency-vs-size.png"))
    results["table"] = table
    return results


def main(argv: list[str] | None = None) -> int:
    """The subprocess entry points of ``assistant bench`` (``_build``, ``_serve``)."""
    parser = argparse.ArgumentParser(prog="python -m assistant.eval.runner",
                                     description="Internal steps of `assistant bench`; run that instead.")
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("_build")
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--perturb", type=float, default=0.0)
    p.add_argument("--launched-at", type=float, default=0.0)
    p = sub.add_parser("_serve")
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--questions", type=Path, required=True)
    p.add_argument("--launched-at", type=float, required=True)
    args = parser.parse_args(argv)
    if args.step == "_build":
        result = build_index(args.corpus, args.index, args.cache, args.perturb)
    else:
        result = serve(args.index, json.loads(args.questions.read_text(encoding="utf-8")), args.launched_at)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

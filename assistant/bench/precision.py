"""``assistant bench --precision``: fp32 against the chosen precision, side by side, in one run.

On the same texts and the same questions, for each precision: indexing throughput (XQuAD paragraphs
through the real pipeline, and e5 alone), cold start and warm ``ask`` latency with the reader (a
fresh process over an index of the article, asking the shipped questions), peak RSS of that
process, and quality on XQuAD-ar (retrieval hit@1 and hit@5 for Arabic and English questions, and
the reader's gold-paragraph F1). A third row queries the fp32 index with the chosen precision: the
case of an index built before the precision changed. These machines are noisy; the ratios, taken
minutes apart in one run, are the figures that count.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..answer.reader.model import Reader
from ..api import Assistant
from ..config import ONNX_READER_WEIGHTS, Settings
from ..eval.questions import Question, SquadSet, default_question_files, load_questions, load_squad
from .corpus import indexing_texts, xquad_paragraphs
from .performance import _subprocess, measure_throughput
from .runner import read_gold_paragraphs


def retrieval_hits(bot: Assistant, questions: Sequence[Question], depth: int = 5) -> dict[str, float]:
    """hit@1 and hit@``depth`` of retrieval alone, per question language (gold: the question's paragraph)."""
    found: dict[str, list[int]] = {}
    for question in questions:
        ranked = [h.source for h in bot.retrieve(question.question, depth)]
        rank = next((k for k, source in enumerate(ranked) if source in question.gold_sources), depth)
        found.setdefault(question.lang, []).append(rank)
    summary: dict[str, float] = {}
    for lang, ranks in sorted(found.items()):
        summary[f"hit@1_{lang}"] = round(sum(r < 1 for r in ranks) / len(ranks), 4)
        summary[f"hit@{depth}_{lang}"] = round(sum(r < depth for r in ranks) / len(ranks), 4)
        summary[f"questions_{lang}"] = len(ranks)
    return summary


def runtime_of(precision: str) -> str:
    """Where the bench runs ``precision``: int8 exists on ONNX Runtime only (questions there in fp32,
    the reader in ``settings.onnx_reader``), the others on torch throughout."""
    return "onnx" if precision == "int8" else "torch"


def quality(data: SquadSet, folder: Path, settings: Settings, chosen: str, progress: bool) -> dict[str, Any]:
    """XQuAD-ar quality in fp32 and in ``chosen`` (each on :func:`runtime_of`), an index in one
    precision searched with questions in another, and questions on ONNX Runtime over the ``chosen``
    index, as ``make run`` serves them (the reader in each of its ONNX weights)."""
    results: dict[str, Any] = {}
    fp32_index = folder / "fp32"
    for precision in dict.fromkeys(("fp32", chosen)):
        corpus = folder / "corpus"
        if not corpus.exists():
            corpus.mkdir(parents=True)
            for name, text in data.paragraphs.items():
                (corpus / name).write_text(text, encoding="utf-8")
        bot = Assistant(settings.replace(precision=precision, runtime=runtime_of(precision),
                                         index_dir=folder / precision, corpus_dir=corpus, progress=progress))
        bot.index([corpus], progress=progress)
        row = retrieval_hits(bot, data.questions)
        reader = bot.parts.reader_answerer.reader if bot.parts.reader_answerer is not None else None
        if isinstance(reader, Reader):
            row.update(read_gold_paragraphs(reader, data, data.questions, progress=progress))
        results[precision] = row
    if chosen == "int8":  # its questions run in fp32: the mixed case is torch's (bf16) over an int8 index
        mixed = Assistant(settings.replace(precision=chosen, runtime="torch", index_dir=folder / chosen,
                                           corpus_dir=folder / "corpus", progress=False))
        results[f"torch {mixed.parts.embedder.precision} questions, int8 index"] = retrieval_hits(mixed, data.questions)
    elif chosen != "fp32":
        mixed = Assistant(settings.replace(precision=chosen, runtime="torch", index_dir=fp32_index,
                                           corpus_dir=folder / "corpus", progress=False))
        results[f"{chosen} questions, fp32 index"] = retrieval_hits(mixed, data.questions)
    for weights in ONNX_READER_WEIGHTS:  # the same questions: the reader's weights change only its rows
        onnx = Assistant(settings.replace(precision=chosen, runtime="onnx", onnx_reader=weights,
                                          index_dir=folder / chosen, corpus_dir=folder / "corpus", progress=False))
        if onnx.parts.prepare_onnx() is None:
            break
        row = retrieval_hits(onnx, data.questions) if weights == ONNX_READER_WEIGHTS[0] else {}
        reader = onnx.parts.reader_answerer.reader if onnx.parts.reader_answerer is not None else None
        if isinstance(reader, Reader):
            row.update(read_gold_paragraphs(reader, data, data.questions, progress=progress))
            row["reader_graph"] = reader.graph.name if reader.graph is not None else "torch (no ONNX copy)"
        results[f"onnx questions, {chosen} index, {weights} reader"] = row
    return results


def interleaved_e5(settings: Settings, texts: Sequence[str], chosen: str, rounds: int = 6,
                   batch: int = 48) -> dict[str, Any]:
    """e5 alone in fp32 and in ``chosen`` on the same batches, taking turns: a busy machine slows both
    alike, and the order reverses every round, so the median of the per-round ratios holds where
    back-to-back phases do not."""
    import statistics
    import time

    from ..models.embeddings import load_embedder

    models: dict[str, Any] = {"fp32": load_embedder(settings.embed_model, settings.model_cache, progress=False,
                                                    precision="fp32")}
    indexer = Assistant(settings.replace(precision=chosen, runtime=runtime_of(chosen), progress=False))
    models[chosen] = indexer.parts.index_embedder  # as `assistant index` runs it (int8: on ONNX Runtime)
    if models[chosen].precision != chosen:
        raise RuntimeError(f"{chosen} cannot run here ({indexer.notes[0] if indexer.notes else 'unknown'})")
    for model in models.values():
        model.embed_passages(list(texts[:8]))  # first calls build the CPU kernels for new shapes
    rates: dict[str, list[float]] = {p: [] for p in models}
    for r in range(rounds):
        part = list(texts[r * batch:(r + 1) * batch]) or list(texts[:batch])
        for name, model in (list(models.items()) if r % 2 == 0 else list(models.items())[::-1]):
            started = time.perf_counter()
            model.embed_passages(part)
            rates[name].append(len(part) / (time.perf_counter() - started))
    ratios = [b / a for a, b in zip(rates["fp32"], rates[chosen], strict=True)]
    return {"rounds": rounds, "batch": batch, "fp32_texts_per_s": round(statistics.median(rates["fp32"]), 1),
            f"{chosen}_texts_per_s": round(statistics.median(rates[chosen]), 1),
            "ratio_median": round(statistics.median(ratios), 2), "ratios": [round(x, 2) for x in ratios],
            "load_average": round(os.getloadavg()[0], 2)}


def _article_questions(limit: int) -> list[str]:
    questions = [q.question for path in default_question_files()[:1] for q in load_questions(path)]
    return questions[:limit]


def run_precision_bench(settings: Settings, out_dir: Path, xquad_dir: Path | None = None, questions: int = 40,
                        quality_limit: int | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure fp32 and ``settings.precision`` side by side; writes ``precision.json`` and ``precision.md``.

    Args:
        settings: The assistant's settings; ``precision`` is the one compared with fp32.
        out_dir: Where the results go.
        xquad_dir: The folder with ``xquad.ar.json`` and ``xquad.en.json`` (default: ``settings.xquad_dir``).
        questions: Timed shipped questions per precision (3 more warm up, one answers the cold start).
        quality_limit: Only the first questions of each XQuAD file in the quality rows (all when ``None``;
            0 leaves the quality rows out).
        log: Progress messages.
    """
    xquad_dir = Path(xquad_dir) if xquad_dir else settings.xquad_dir
    chosen = settings.precision
    precisions = list(dict.fromkeys(("fp32", chosen)))
    paragraphs = xquad_paragraphs(xquad_dir)
    data = load_squad(xquad_dir / "xquad.ar.json", [xquad_dir / "xquad.ar.json", xquad_dir / "xquad.en.json"],
                      quality_limit)
    asked = _article_questions(questions + 4)
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "chosen": chosen, "runs": {}}
    Assistant(settings.replace(runtime="onnx", progress=False)).parts.prepare_onnx()  # int8 and the ONNX column need it
    log("e5 alone, fp32 and the chosen precision taking turns: the texts indexing embeds ...")
    results["interleaved_indexing"] = interleaved_e5(
        settings, indexing_texts(paragraphs, settings.chunk_max_chars), chosen, batch=480)
    log(json.dumps(results["interleaved_indexing"]))
    log("... and whole paragraphs (up to 512 tokens) ...")
    results["interleaved"] = interleaved_e5(settings, list(paragraphs.values()), chosen)
    log(json.dumps(results["interleaved"]))
    with tempfile.TemporaryDirectory(prefix="assistant-bench-precision-") as tmp:
        questions_file = Path(tmp) / "questions.json"
        questions_file.write_text(json.dumps(asked, ensure_ascii=False), encoding="utf-8")
        article = Path(tmp) / "article"
        shutil.copytree(settings.corpus_dir, article / "corpus")
        for precision in precisions:
            run_settings = settings.replace(precision=precision, runtime=runtime_of(precision))
            log(f"{precision}: index throughput on {len(paragraphs)} XQuAD paragraphs ...")
            throughput = measure_throughput(paragraphs, run_settings, Path(tmp) / f"throughput-{precision}",
                                            settings.progress)
            env = dict(os.environ, ASSISTANT_PRECISION=precision, ASSISTANT_RUNTIME=runtime_of(precision),
                       HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
            index = Path(tmp) / f"article-{precision}"
            Assistant(run_settings.replace(index_dir=index, corpus_dir=article / "corpus", progress=False)).index()
            log(f"{precision}: cold start and ask latency over the article ...")
            served = _subprocess(["_serve", "--index", str(index), "--questions", str(questions_file)], env)
            results["runs"][precision] = {"throughput": throughput, "serve": served}
            log(json.dumps(results["runs"][precision]))
        if runtime_of(chosen) == "onnx":  # the chosen column is already served on ONNX Runtime
            results["runs"]["onnx"] = {"serve": results["runs"][chosen]["serve"]}
        elif Assistant(settings.replace(runtime="onnx", progress=False)).parts.prepare_onnx() is not None:
            log(f"onnx: cold start and ask latency over the article ({chosen} index, questions on ONNX Runtime) ...")
            env = dict(os.environ, ASSISTANT_PRECISION=chosen, ASSISTANT_RUNTIME="onnx", HF_HUB_OFFLINE="1",
                       ANONYMIZED_TELEMETRY="False")
            served = _subprocess(["_serve", "--index", str(Path(tmp) / f"article-{chosen}"), "--questions",
                                  str(questions_file)], env)
            results["runs"]["onnx"] = {"serve": served}
            log(json.dumps(results["runs"]["onnx"]))
        if data.questions:
            log(f"quality on XQuAD-ar ({len(data.questions)} questions) ...")
            results["quality"] = quality(data, Path(tmp) / "quality", settings, chosen, settings.progress)
    results["table"] = precision_table(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "precision.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    (out_dir / "precision.md").write_text(f"# assistant bench --precision\n\n{results['table']}", encoding="utf-8")
    return results


#: The rows of the side-by-side table: ``(label, path into a run, better when higher)``.
SPEED_ROWS = (
    ("indexing, chunks/s", ("throughput", "index_chunks_per_s"), True),
    ("e5 alone on the chunk texts, chunks/s", ("throughput", "e5_chunks_only_per_s"), True),
    ("cold start to the first answer, s", ("serve", "cold_start_s"), False),
    ("of which loading the models, s", ("serve", "load_models_s"), False),
    ("warm ask p50, ms (with the reader)", ("serve", "ask_ms_p50"), False),
    ("warm ask p95, ms", ("serve", "ask_ms_p95"), False),
    ("serving peak RSS, MB", ("serve", "serve_peak_rss_mb"), False),
)


def precision_table(results: dict[str, Any]) -> str:
    """Markdown: speed and memory per precision with the ratio, then the quality rows and their deltas."""
    chosen, runs = results["chosen"], results["runs"]
    onnx = runs.get("onnx", {})
    where = "e5 indexing on ONNX Runtime, questions in fp32 there" if runtime_of(chosen) == "onnx" else "torch"
    lines = [f"| | torch fp32 | {chosen} ({where}) | {chosen} ÷ fp32 | questions on ONNX Runtime, {chosen} index |",
             "|---|---:|---:|---:|---:|"]
    for key, what in (("interleaved_indexing", "e5 alone on the texts indexing embeds (chunks, then their "
                                               "sentences), texts/s"),
                      ("interleaved", "e5 alone on whole XQuAD paragraphs, paragraphs/s")):
        turns = results.get(key)
        if not turns:
            continue
        lines.append(f"| {what} (taking turns, median of {turns['rounds']} rounds) | {turns['fp32_texts_per_s']} | "
                     f"{turns[f'{chosen}_texts_per_s']} | {turns['ratio_median']} | – |")
    for label, (part, key), _ in SPEED_ROWS:
        base, other = runs["fp32"][part].get(key), runs[chosen][part].get(key)
        ratio = f"{other / base:.2f}" if base and other is not None else "–"
        lines.append(f"| {label} | {base} | {other} | {ratio} | {onnx.get(part, {}).get(key, '–')} |")
    quality_rows = results.get("quality", {})
    if quality_rows:
        keys = [k for k in quality_rows["fp32"] if k.startswith(("hit@", "gold_paragraph_f1"))]
        lines += ["", f"| XQuAD-ar | {' | '.join(quality_rows)} | {chosen} − fp32 |",
                  "|---|" + "---:|" * (len(quality_rows) + 1)]
        for key in keys:
            values = [row.get(key) for row in quality_rows.values()]
            delta = (quality_rows[chosen].get(key, 0) - quality_rows["fp32"][key]) if chosen in quality_rows else 0
            lines.append(f"| {key} | {' | '.join('–' if v is None else str(v) for v in values)} | {delta:+.4g} |")
    return "\n".join(lines) + "\n"

"""The performance harness behind ``assistant bench``, each size measured in fresh subprocesses
(``python -m assistant.bench.performance``). It (:func:`run_bench`) measures:

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
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..api import Assistant
from ..config import Settings
from ..eval.metrics import percentile
from ..eval.questions import load_squad
from .corpus import CachedEmbedder, TimedEmbedder, VectorFile, passage_pool, write_corpus, xquad_paragraphs


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


def measure_throughput(paragraphs: dict[str, str], settings: Settings, folder: Path,
                       progress: bool = True) -> dict[str, Any]:
    """Index the paragraphs through the real pipeline, then embed the same texts with the models alone.

    Returns:
        Chunks, seconds, chunks/s, the share of indexing time spent embedding, each embedder's
        texts/s alone, and indexing throughput as a fraction of the embedders alone, by wall
        time and by this process's CPU time (other processes on a shared machine inflate wall
        time but not CPU time; the load average is recorded beside them).
    """
    from ..models.embeddings import load_second_embedder

    primary = Assistant(settings.replace(progress=progress)).parts.index_embedder  # as `assistant index` runs it
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
    chunk_texts = [chunk.text for chunk, _ in bot.parts.store.iter_chunks()]
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
    from ..models.embeddings import load_second_embedder

    bot = Assistant(settings.replace(progress=False))
    precision = bot.parts.index_precision  # cached per precision: vectors of two must not mix
    encoders = {"embedder": CachedEmbedder(
        settings.embed_model, lambda: bot.parts.index_embedder,
        VectorFile(cache_dir, f"{settings.embed_model}-{precision}"), perturb, precision=precision)}
    second_name = getattr(settings, "second_embedder", "")
    if second_name:
        probe = load_second_embedder(second_name)
        assert probe is not None
        encoders["second_embedder"] = CachedEmbedder(probe.name, lambda: probe, VectorFile(cache_dir, probe.name),
                                                     perturb)
    return encoders


def build_index(corpus: Path, index_dir: Path, cache_dir: Path, perturb: float) -> dict[str, Any]:
    """Index a benchmark corpus with cached real vectors (run in its own process)."""
    settings = Settings(index_dir=index_dir, corpus_dir=corpus, progress=False)
    encoders = _cache_encoders(settings, cache_dir, perturb)
    bot = Assistant(settings, **encoders)  # type: ignore[arg-type]
    started = time.perf_counter()
    report = bot.index([corpus], progress=False)
    seconds = time.perf_counter() - started
    for encoder in encoders.values():
        encoder._cache.save()
    return {"chunks": bot.parts.store.count(), "chunks_added": report.chunks_added, "build_seconds": round(seconds, 1),
            "embedded_fresh": {e.name: e.embedded for e in encoders.values()},
            "embedding_seconds": round(sum(e.seconds for e in encoders.values()), 1),
            "build_peak_rss_mb": rss_mb()}


def serve(index_dir: Path, questions: list[str], launched_at: float, warmup: int = 3) -> dict[str, Any]:
    """Open an index in this fresh process, answer once (cold start, by step), then time warm asks.

    Cold start runs from the parent launching this process to the first answer: interpreter and
    imports, loading the models, opening the index, building BM25, and the first ask.
    """
    entered = time.time()
    settings = Settings(index_dir=index_dir, corpus_dir=index_dir / "no-corpus", progress=False)
    bot = Assistant(settings)
    steps: dict[str, float] = {}
    started = time.perf_counter()
    _ = bot.parts.encoders  # load the models
    steps["load_models_s"] = time.perf_counter() - started
    started = time.perf_counter()
    bot.parts.store.count()
    steps["open_index_s"] = time.perf_counter() - started
    started = time.perf_counter()
    bot.parts.retriever.lexical_index()
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
    return {"chunks": bot.parts.store.count(), "cold_start_s": round(cold, 2),
            "python_start_and_imports_s": round(entered - launched_at, 2),
            **{k: round(v, 2) for k, v in steps.items()},
            "asks": len(latencies), "ask_ms_p50": round(percentile(latencies, 50), 1),
            "ask_ms_p95": round(percentile(latencies, 95), 1), "ask_ms_mean": round(float(np.mean(latencies)), 1),
            "serve_peak_rss_mb": rss_mb()}


def _subprocess(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    launched = time.time()
    command = [sys.executable, "-m", "assistant.bench.performance", *args, "--launched-at", repr(launched)]
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
        xquad_dir: The folder with ``xquad.ar.json`` and ``xquad.en.json`` (default: ``settings.xquad_dir``).
        sizes: Corpus sizes in chunks.
        questions: Real XQuAD questions per size (3 more warm up, one answers the cold start).
        cache_dir: Where real vectors of the pool are kept between runs.
        throughput: Also measure index throughput.
        log: Progress messages.
    """
    xquad_dir = Path(xquad_dir) if xquad_dir else settings.xquad_dir
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
    parser = argparse.ArgumentParser(prog="python -m assistant.bench.performance",
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

"""Benchmarks on real data: ``python -m assistant.benchmarks xquad``.

XQuAD: the 240 Arabic paragraphs become a fresh temporary index (one file per paragraph, through
the real ingest path); the 1190 Arabic and the 1190 parallel English questions are retrieved
against it, and the gold passage of each question is its own paragraph.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .api import Assistant
from .config import Settings

DEFAULT_XQUAD = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "xquad"


@dataclass(frozen=True)
class SquadQuestion:
    """A question whose gold passage is the paragraph it was asked about."""

    id: str
    question: str
    gold: str
    answers: list[str]


def load_squad(path: Path, folder: Path | None = None) -> tuple[list[SquadQuestion], dict[str, str]]:
    """Read SQuAD-format JSON into questions and ``{paragraph name: context}``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    questions, paragraphs = [], {}
    for a, article in enumerate(data["data"]):
        for p, paragraph in enumerate(article["paragraphs"]):
            name = f"xquad-{a:02d}-{p:02d}.txt"
            paragraphs[name] = paragraph["context"]
            for qa in paragraph["qas"]:
                questions.append(SquadQuestion(qa["id"], qa["question"], name, [x["text"] for x in qa["answers"]]))
    return questions, paragraphs


def rank_metrics(ranked: list[list[str]], gold: list[str]) -> dict[str, float]:
    """hit@1, hit@5 and MRR@10 over ranked source lists (duplicates removed before scoring)."""
    hit1 = hit5 = mrr = 0.0
    for sources, target in zip(ranked, gold):
        unique = list(dict.fromkeys(sources))
        if target in unique[:1]:
            hit1 += 1
        if target in unique[:5]:
            hit5 += 1
        if target in unique[:10]:
            mrr += 1 / (unique.index(target) + 1)
    n = max(len(gold), 1)
    return {"hit@1": round(hit1 / n, 4), "hit@5": round(hit5 / n, 4), "mrr@10": round(mrr / n, 4)}


def bench_xquad(xquad_dir: Path, limit: int | None = None) -> dict[str, object]:
    """Retrieval quality and speed on XQuAD-ar passages with Arabic and English questions."""
    ar_questions, paragraphs = load_squad(xquad_dir / "xquad.ar.json")
    en_questions, _ = load_squad(xquad_dir / "xquad.en.json")
    if limit:
        ar_questions, en_questions = ar_questions[:limit], en_questions[:limit]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for name, context in paragraphs.items():
            (corpus / name).write_text(context, encoding="utf-8")
        bot = Assistant(Settings.from_env(index_dir=Path(tmp) / "index", corpus_dir=corpus, progress=True))
        started = time.perf_counter()
        report = bot.index([corpus])
        index_seconds = time.perf_counter() - started
        results: dict[str, object] = {"paragraphs": len(paragraphs), "chunks": report.chunks_added,
                                      "index_seconds": round(index_seconds, 1)}
        for lang, questions in (("ar", ar_questions), ("en", en_questions)):
            ranked, latencies = [], []
            for q in questions:
                t = time.perf_counter()
                hits = bot.retrieve(q.question, top_k=10)
                latencies.append((time.perf_counter() - t) * 1000)
                ranked.append([h.source for h in hits])
            metrics = rank_metrics(ranked, [q.gold for q in questions])
            metrics["retrieve_ms_p50"] = round(float(np.percentile(latencies, 50)), 1)
            metrics["retrieve_ms_p95"] = round(float(np.percentile(latencies, 95)), 1)
            metrics["questions"] = len(questions)
            results[lang] = metrics
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line for the benchmarks."""
    parser = argparse.ArgumentParser(prog="python -m assistant.benchmarks")
    sub = parser.add_subparsers(dest="which", required=True)
    p = sub.add_parser("xquad", help="XQuAD-ar retrieval with Arabic and English questions")
    p.add_argument("--dir", type=Path, default=DEFAULT_XQUAD)
    p.add_argument("--limit", type=int, help="only the first N questions per language")
    args = parser.parse_args(argv)
    if not (args.dir / "xquad.ar.json").exists():
        parser.error(f"no XQuAD files in {args.dir}; pass --dir with xquad.ar.json and xquad.en.json")
    print(json.dumps(bench_xquad(args.dir, args.limit), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

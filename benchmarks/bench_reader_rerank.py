"""Does the reader's best-span score, fused into retrieval, lift XQuAD-ar hit@1? (issue: reader as a reranker)

    python benchmarks/bench_reader_rerank.py [--xquad-dir ../shared/data/xquad] [--depth 4] \
        [--out bench-out/rerank.json]

The 240 XQuAD-ar paragraphs are indexed through the real pipeline; each question's top ``depth``
fused passages are read one by one, and they are reordered by

    fused (min-max scaled over the candidates) + w * reader (best span score, min-max scaled)

for a grid of ``w``. Reported per question language: hit@1 of the shipped order, the in-sample best
``w`` (an upper bound), and ``w`` chosen on the even-numbered articles scored on the odd ones.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Settings  # noqa: E402
from assistant.bench.runner import squad_assistant  # noqa: E402
from assistant.eval.questions import load_squad  # noqa: E402

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def _scaled(values: list[float]) -> list[float]:
    low, high = min(values), max(values)
    return [(v - low) / (high - low) if high > low else 0.0 for v in values]


def gather(xquad: Path, folder: Path, depth: int, limit: int | None) -> list[dict]:
    data = load_squad(xquad / "xquad.ar.json", [xquad / "xquad.ar.json", xquad / "xquad.en.json"], limit)
    bot, report = squad_assistant(data, folder, Settings(progress=False), progress=False)
    reader = bot.parts.reader_answerer.reader
    print(f"indexed {report.chunks_added} chunks; reading {len(data.questions)} questions x {depth} passages",
          flush=True)
    found, started = [], time.perf_counter()
    for n, question in enumerate(data.questions):
        hits = bot.retrieve(question.question, depth)
        readings = reader.read_pairs([(question.question, [h.text]) for h in hits])
        found.append({"lang": question.lang, "article": int(re.search(r"p(\d{3})", question.gold_sources[0]).group(1)),
                      "gold": [h.source in question.gold_sources for h in hits], "fused": [h.score for h in hits],
                      "reader": [r.spans[0].score if r.spans else -30.0 for r in readings]})
        if n % 200 == 199:
            print(f"{n + 1} questions, {time.perf_counter() - started:.0f} s", flush=True)
    return found


def hit_at_1(items: list[dict], w: float) -> float:
    hits = 0
    for item in items:
        if not item["gold"]:
            continue
        combined = [f + w * r for f, r in zip(_scaled(item["fused"]), _scaled(item["reader"]), strict=True)]
        hits += item["gold"][max(range(len(combined)), key=combined.__getitem__)]
    return hits / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xquad-dir", type=Path, default=Settings().xquad_dir)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "rerank.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        items = gather(args.xquad_dir, Path(tmp), args.depth, args.limit)
    result = {}
    for lang in ("ar", "en"):
        subset = [i for i in items if i["lang"] == lang]
        even = [i for i in subset if i["article"] % 2 == 0]
        odd = [i for i in subset if i["article"] % 2 == 1]
        curve = {w: round(hit_at_1(subset, w), 4) for w in WEIGHTS}
        chosen = max(WEIGHTS, key=lambda w: (hit_at_1(even, w), -w))
        result[lang] = {"questions": len(subset), "shipped_hit@1": curve[0.0], "by_weight": curve,
                        "oracle_weight": max(curve, key=curve.get), "oracle_hit@1": max(curve.values()),
                        "held_out_weight": chosen, "held_out_odd_hit@1": round(hit_at_1(odd, chosen), 4),
                        "shipped_odd_hit@1": round(hit_at_1(odd, 0.0), 4)}
        print(lang, json.dumps(result[lang]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

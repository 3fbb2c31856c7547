"""How far fusion weights can take XQuAD-ar retrieval: the limit the packaged models put on it.

    python benchmarks/bench_fusion.py [--xquad-dir ../shared/data/xquad] [--out bench-out/fusion.json]

The 240 XQuAD-ar paragraphs are indexed into a temporary folder through the real pipeline; every
Arabic and English question's signals (e5 passages, e5 sentences, USE passages, USE sentences,
BM25, and BM25 over the glossary translations of an English question's words) are gathered once,
then fused under each weight setting of a grid:

- shipped: the weights the retriever uses (:class:`assistant.retrieve.retriever.FusionWeights`);
- oracle: the best setting per language and metric, chosen on the very questions it is scored on,
  an upper bound on what any fixed weights can reach with these signals;
- held out: chosen on the even-numbered articles, scored on the odd ones.
"""

from __future__ import annotations

import argparse
import itertools
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
from assistant.retrieve.retriever import FusionWeights, fuse  # noqa: E402

SIGNALS = ("dense", "dense_sentences", "second", "second_sentences", "lexical", "bridge")
GRID = list(itertools.product((0.5, 1.0), (0.0, 0.5, 0.75, 1.0, 1.5), (0.0, 0.25, 0.5, 1.0),
                              (0.0, 0.25, 0.5, 0.75, 1.0, 1.5), (0.0, 1.5, 3.0), (0.0, 1.0)))


def gather(xquad: Path, folder: Path) -> list[dict]:
    """Every question's signals and gold paragraphs, from a fresh index of the XQuAD-ar paragraphs."""
    data = load_squad(xquad / "xquad.ar.json", [xquad / "xquad.ar.json", xquad / "xquad.en.json"])
    bot, report = squad_assistant(data, folder, Settings(progress=False), progress=False)
    print(f"indexed {len(data.paragraphs)} paragraphs ({report.chunks_added} chunks) in {report.seconds:.0f} s",
          flush=True)
    sources = {chunk.chunk_id: chunk.source for chunk, _ in bot.parts.store.iter_chunks()}
    retriever = bot.parts.retriever
    found = []
    for question in data.questions:
        text = question.turns[0]
        signals, coverage = retriever.signals(text, retriever.embed(text), FusionWeights().candidates)
        found.append({"lang": question.lang, "gold": set(question.gold_sources), "coverage": coverage,
                      "article": int(re.search(r"p(\d{3})", question.gold_sources[0]).group(1)),
                      "signals": signals, "sources": {c: sources[c] for scores in signals.values() for c in scores}})
    return found


def score(weights: tuple[float, ...], questions: list[dict]) -> tuple[float, float]:
    """hit@1 and hit@5 of the fused ranking, by paragraph with duplicates removed (as ``assistant eval``)."""
    hit1 = hit5 = 0
    for q in questions:
        named = dict(zip(SIGNALS, weights, strict=True))
        named["lexical"] *= q["coverage"]["lexical"]
        named["bridge"] *= q["coverage"]["bridge"]
        ranked = list(dict.fromkeys(q["sources"][c] for c, _ in fuse(q["signals"], named)[:10]))[:5]
        hit1 += bool(ranked) and ranked[0] in q["gold"]
        hit5 += any(source in q["gold"] for source in ranked)
    return round(hit1 / len(questions), 4), round(hit5 / len(questions), 4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad-dir", type=Path, default=Settings().xquad_dir)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "fusion.json")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-fusion-") as tmp:
        questions = gather(args.xquad_dir, Path(tmp))
    w = FusionWeights()
    shipped = (w.dense, w.dense_sentences, w.second, w.second_sentences, w.lexical, w.bridge)
    report: dict = {"grid_size": len(GRID)}
    for lang in ("ar", "en"):
        every = [q for q in questions if q["lang"] == lang]
        even = [q for q in every if q["article"] % 2 == 0]
        odd = [q for q in every if q["article"] % 2 == 1]
        table = {weights: (score(weights, every), score(weights, even), score(weights, odd)) for weights in GRID}
        best1 = max(GRID, key=lambda k: table[k][0][0])
        best5 = max(GRID, key=lambda k: table[k][0][1])
        chosen = max(GRID, key=lambda k: sum(table[k][1]))
        report[lang] = {
            "questions": len(every),
            "shipped": {"weights": shipped, "all": score(shipped, every), "odd": score(shipped, odd)},
            "oracle_hit1": {"weights": best1, "hit1_hit5": table[best1][0]},
            "oracle_hit5": {"weights": best5, "hit1_hit5": table[best5][0]},
            "held_out": {"weights": chosen, "odd": table[chosen][2]},
        }
        r = report[lang]
        print(f"{lang} ({len(every)} questions): shipped hit@1/hit@5 {r['shipped']['all']}; oracle hit@1 "
              f"{table[best1][0][0]} (hit@5 {table[best1][0][1]}) with {best1}; oracle hit@5 {table[best5][0][1]} "
              f"(hit@1 {table[best5][0][0]}) with {best5}; held out on odd articles: chosen {chosen} "
              f"{table[chosen][2]} vs shipped {r['shipped']['odd']}", flush=True)
    report["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"report: {args.out} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The reader alone on XQuAD-ar: gold-paragraph F1 and how its margin tells near misses apart.

For each adapter: SQuAD EM/F1 of the best span on each question's gold paragraph (all questions, or
``--limit`` per language), and, for the first ``--near-miss-limit`` answerable questions per language,
the reader's margin (best span minus no answer) on the gold paragraph against its margin on another
paragraph of the same article that lacks the answer: the AUC, and the share of those near misses
refused at the margin that refuses 5% of the answerable questions. Used to decide whether a newly
trained adapter ships (assistant/data/reader/MODEL_CARD.md)::

    .venv/bin/python benchmarks/bench_reader_alone.py reader-run/reader reader-run-2/reader
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answer.reader.model import load_reader  # noqa: E402
from assistant.bench.runner import read_gold_paragraphs  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.eval.questions import load_squad  # noqa: E402
from assistant.models.prepare import prepare_e5_folder  # noqa: E402


def near_miss_margins(reader, data, lang: str, limit: int) -> dict:
    from sklearn.metrics import roc_auc_score

    names = sorted(data.paragraphs)
    questions = [q for q in data.questions if q.lang == lang and q.answerable and q.gold_sources][:limit]
    answerable, near = [], []
    for i in range(0, len(questions), 16):
        part = questions[i:i + 16]
        gold_pairs, other_pairs = [], []
        for q in part:
            gold = q.gold_sources[0]
            article = gold.split("-")[0]
            others = [n for n in names if n.startswith(article + "-") and n != gold
                      and not any(a in data.paragraphs[n] for a in q.answers)]
            gold_pairs.append((q.question, [data.paragraphs[gold]]))
            if others:
                other_pairs.append((q.question, [data.paragraphs[others[0]]]))
        answerable += [r.margin for r in reader.read_pairs(gold_pairs)]
        near += [r.margin for r in reader.read_pairs(other_pairs)]
    pos, neg = np.array(answerable), np.array(near)
    cut = np.quantile(pos, 0.05)
    return {"auc": round(float(roc_auc_score([1] * len(pos) + [0] * len(neg), np.r_[pos, neg])), 4),
            "near_miss_refused_at_5pct": round(float((neg < cut).mean()), 4),
            "median_margin_answerable": round(float(np.median(pos)), 2),
            "median_margin_near_miss": round(float(np.median(neg)), 2), "questions": [len(pos), len(neg)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("adapters", nargs="+", type=Path)
    parser.add_argument("--xquad-dir", type=Path, default=Settings().xquad_dir)
    parser.add_argument("--limit", type=int, help="gold-paragraph questions per language (default: all)")
    parser.add_argument("--near-miss-limit", type=int, default=600)
    parser.add_argument("--precision", default="bf16")
    args = parser.parse_args()
    base = prepare_e5_folder(Settings().model_cache, progress=False)
    x = args.xquad_dir
    data = load_squad(x / "xquad.ar.json", [x / "xquad.ar.json", x / "xquad.en.json"], limit=args.limit)
    full = load_squad(x / "xquad.ar.json", [x / "xquad.ar.json", x / "xquad.en.json"])
    for adapter in args.adapters:
        reader = load_reader(base, adapter, precision=args.precision)
        result = {"adapter": str(adapter), **read_gold_paragraphs(reader, data, data.questions, progress=False)}
        for lang in ("ar", "en"):
            result[f"near_miss_{lang}"] = near_miss_margins(reader, full, lang, args.near_miss_limit)
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()

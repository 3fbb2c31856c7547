"""Write synthetic near misses of a SQuAD-format set (XQuAD) as a SQuAD-format file of unanswerable
questions with the same ids, to ask against the original paragraphs::

    .venv/bin/python benchmarks/make_near_misses.py ../shared/data/xquad/xquad.ar.json /tmp/xq/synth-ar.json
    .venv/bin/python benchmarks/make_near_misses.py ../shared/data/xquad/xquad.en.json /tmp/xq/synth-en.json
    ASSISTANT_READER__SELECTIVE= .venv/bin/assistant eval --squad ../shared/data/xquad/xquad.ar.json \
        --questions-from /tmp/xq/synth-ar.json --out /tmp/xq/synth-ar

``--questions-from`` reads the ids of the original questions, so each near miss is asked with its own
paragraph indexed (``is_impossible``: an unanswerable question). See :mod:`assistant.text.near_miss`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.text.near_miss import make_near_miss  # noqa: E402
from assistant.text.normalize import detect_language  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("squad", type=Path, help="the SQuAD-format file whose questions are changed")
    parser.add_argument("out", type=Path, help="where the near misses go (SQuAD format)")
    args = parser.parse_args()
    data = json.loads(args.squad.read_text(encoding="utf-8"))
    edits: Counter[str] = Counter()
    out = {"version": "near-miss", "data": []}
    for article in data["data"]:  # XQuAD's languages are parallel: edits are judged in the question's own
        texts = [p["context"] for p in article["paragraphs"]]
        paragraphs = []
        for index, paragraph in enumerate(article["paragraphs"]):
            others = texts[:index] + texts[index + 1:]
            qas = []
            for qa in paragraph["qas"]:
                miss = make_near_miss(qa["question"], texts[index], others, detect_language(qa["question"]))
                if miss is not None:
                    edits[miss.edit] += 1
                    qas.append({"id": qa["id"], "question": miss.question, "is_impossible": True, "answers": []})
            paragraphs.append({"context": paragraph["context"], "qas": qas})
        out["data"].append({"title": article.get("title", ""), "paragraphs": paragraphs})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    print(f"{sum(edits.values())} near misses: {dict(edits)} -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

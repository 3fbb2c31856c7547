"""How names reach an English reader: the press list, the held-out forms, and each layer.

    python benchmarks/bench_names.py                      # the press list through the whole pipeline
    python benchmarks/bench_names.py --held-out ../shared/data/translit   # the model on 2,000 unseen forms

Figures go to docs/english.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer.reader.cross_language import ReaderAids, render_for  # noqa: E402
from assistant.models.transliterator import load_name_renderer  # noqa: E402
from assistant.text.entities import load_entities, load_places  # noqa: E402
from assistant.text.names import KnownSpellings, NameRenderer  # noqa: E402

PRESS = ROOT / "tests" / "data" / "press_names.tsv"


def read_press(path: Path = PRESS) -> list[tuple[str, tuple[str, ...], bool]]:
    """``(arabic, press spellings, is a place)`` of the press list."""
    rows, place = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# places"):
            place = True
        if not line.strip() or line.startswith("#"):
            continue
        arabic, spellings = line.split("\t")
        rows.append((arabic, tuple(spellings.split("|")), place))
    return rows


def press_score(aids: ReaderAids, rows: list[tuple[str, tuple[str, ...], bool]]) -> tuple[float, list[str]]:
    """Share of the list rendered as one of its press spellings (case aside), and the misses."""
    misses = []
    for arabic, spellings, place in rows:
        text = render_for(arabic, "en", aids, names=True, place=place).text
        if text.lower() not in {s.lower() for s in spellings}:
            misses.append(f"{arabic}\t{text}\t{'|'.join(spellings)}")
    return 1 - len(misses) / len(rows), misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--held-out", type=Path, help="the translit data folder: score the shipped model")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    rows = read_press()
    renderer = load_name_renderer()
    layers = {
        "letter table only": ReaderAids(names=NameRenderer(KnownSpellings({}))),
        "known spellings + article (layers 1-2), letter table after": ReaderAids(
            names=NameRenderer(renderer.known)),
        "layers 1-3 (the model after)": ReaderAids(names=renderer),
        "whole pipeline (entity table, gazetteer, layers 1-3)": ReaderAids(
            entities=load_entities(), names=renderer, places=load_places()),
    }
    print(f"press list: {len(rows)} names and places")
    for label, aids in layers.items():
        share, misses = press_score(aids, rows)
        print(f"  {label}: {share:.3f}")
    if args.misses:
        print("\n".join(misses))
    if args.held_out:
        from assistant.models.train_transliterator import HELD_OUT, score, split
        from assistant.models.transliterator import greedy, load

        model = load()
        if model is None:
            print("no shipped model: run make translit")
            return
        _, references = split(args.held_out)
        forms = list(references)
        print(f"model on {HELD_OUT} held-out forms:", score(dict(zip(forms, greedy(model, forms), strict=True)),
                                                             references))


if __name__ == "__main__":
    main()

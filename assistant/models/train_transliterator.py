"""Train the name transliterator on the public pairs in ../shared/data/translit (``make translit``).

CPU-cheap by design: one thread, a few million parameters, a checkpoint every ``--every`` steps
(run it again with ``--resume`` to go on after an interruption), a wall-clock budget. Held out: 2,000
Arabic forms (and their spelling variants) that training never sees, on which the model is measured
(exact match with any known spelling of the form; character error rate against the closest).

    python -m assistant.models.train_transliterator --data ../shared/data/translit --out translit-run \
        --minutes 70 --resume
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path

from ..text.names import KnownSpellings, loose_form, pair_weight, plausible_pair, read_pairs, spelling_counts
from .transliterator import KNOWN, ModelShape, build, encode_form, encode_spelling, greedy, pad, save_int8

HELD_OUT = 2000


def split(folder: Path, seed: int = 13) -> tuple[list[tuple[str, str, float]], dict[str, Counter[str]]]:
    """Training examples ``(form, spelling, weight)`` and the held-out forms with their known spellings.

    Held-out forms are drawn from the Wikidata and Google pairs (forms of at least three letters);
    every pair whose form folds to the same loose form is kept out of training, whatever its source.
    """
    pairs = [p for p in read_pairs(folder) if plausible_pair(p.form, p.english)]
    shipped = spelling_counts(p for p in pairs if p.source != "anetac")
    candidates = sorted(f for f in shipped if len(f) >= 3)
    rng = random.Random(seed)
    held = set(rng.sample(candidates, HELD_OUT))
    held_loose = {loose_form(f) for f in held}
    everything = spelling_counts(pairs)
    references = {f: everything[f] for f in sorted(held)}
    weights: Counter[tuple[str, str]] = Counter()
    for p in pairs:
        if loose_form(p.form) not in held_loose:
            weights[(p.form, p.english)] += pair_weight(p)
    examples = [(f, e, w) for (f, e), w in sorted(weights.items())]
    return examples, references


def write_known(folder: Path, out: Path) -> int:
    """The shipped table of known spellings (layer 1): the Wikidata (CC0) and Google (Apache-2.0) pairs,
    filtered; ANETAC stays out (its licence does not allow shipping it). Returns the number of forms."""
    counts = spelling_counts(read_pairs(folder, ("wikidata", "google")))
    out.parent.mkdir(parents=True, exist_ok=True)
    KnownSpellings.write(counts, out)
    return len(counts)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def score(predictions: dict[str, str], references: dict[str, Counter[str]]) -> dict[str, float]:
    """Exact match with any known spelling, and character error rate against the closest one."""
    exact, errors = 0, 0.0
    for form, spellings in references.items():
        guess = predictions[form]
        exact += guess in spellings
        errors += min(edit_distance(guess, s) / max(1, len(s)) for s in spellings)
    return {"exact": round(exact / len(references), 4), "cer": round(errors / len(references), 4),
            "forms": len(references)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/translit"))
    parser.add_argument("--out", type=Path, default=Path("translit-run"))
    parser.add_argument("--minutes", type=float, default=80.0, help="wall-clock budget of this run")
    parser.add_argument("--steps", type=int, default=2400, help="planned steps (the learning-rate schedule)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--every", type=int, default=200, help="checkpoint every this many steps")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--bf16", action="store_true", help="autocast matrix products to bfloat16")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    examples, references = split(args.data)
    print(f"{len(examples)} training pairs, {len(references)} held-out forms", flush=True)
    shape = ModelShape()
    model = build(shape)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=0.01)
    step = 0
    args.out.mkdir(parents=True, exist_ok=True)
    checkpoint = args.out / "checkpoint.pt"
    if args.resume and checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
        print(f"resumed at step {step}", flush=True)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters", flush=True)

    weights = torch.tensor([w for _, _, w in examples], dtype=torch.float)
    sources = [encode_form(f) for f, _, _ in examples]
    targets = [encode_spelling(e) for _, e, _ in examples]
    generator = torch.Generator().manual_seed(1000 + step)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=0, label_smoothing=0.1)
    warmup = 400

    def rate(s: int) -> float:
        if s < warmup:
            return (s + 1) / warmup
        progress = min(1.0, (s - warmup) / max(1, args.steps - warmup))
        return 0.05 + 0.95 * 0.5 * (1 + __import__("math").cos(__import__("math").pi * progress))

    started, seen_loss = time.monotonic(), []
    forms = list(references)
    while step < args.steps and time.monotonic() - started < args.minutes * 60:
        model.train()
        for group in optimizer.param_groups:
            group["lr"] = 1.5e-3 * rate(step)
        picks = torch.multinomial(weights, args.batch, replacement=True, generator=generator).tolist()
        source = pad([sources[i] for i in picks])
        target = pad([targets[i] for i in picks])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            logits = model(source, target[:, :-1])
        loss = loss_fn(logits.float().reshape(-1, logits.shape[-1]), target[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        seen_loss.append(loss.item())
        if step % 50 == 0:
            elapsed = time.monotonic() - started
            print(f"step {step} loss {sum(seen_loss) / len(seen_loss):.3f} lr {1e-3 * rate(step):.2e} "
                  f"{elapsed:.0f}s", flush=True)
            seen_loss = []
        if step % args.every == 0:
            _save(torch, checkpoint, model, optimizer, step)
        if step % 2000 == 0:
            quick = forms[:400]
            result = score(dict(zip(quick, greedy(model, quick), strict=True)), {f: references[f] for f in quick})
            print(f"held-out (400) at step {step}: {result}", flush=True)
    _save(torch, checkpoint, model, optimizer, step)
    predictions = dict(zip(forms, greedy(model, forms), strict=True))
    result = score(predictions, references)
    print(f"held-out at step {step}: {result}", flush=True)
    (args.out / "predictions.tsv").write_text(
        "".join(f"{f}\t{predictions[f]}\t{'|'.join(references[f])}\n" for f in forms), encoding="utf-8")
    card = {"steps": step, "batch": args.batch, "training_pairs": len(examples), "held_out": result,
            "finished": step >= args.steps}
    save_int8(model, args.out / "model", card)
    write_known(args.data, args.out / "model" / KNOWN)
    (args.out / "result.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")


def _save(torch, path: Path, model, optimizer, step: int) -> None:  # noqa: ANN001
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, tmp)
    tmp.replace(path)


if __name__ == "__main__":
    main()

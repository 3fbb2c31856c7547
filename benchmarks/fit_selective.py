"""Fit the selective-answering model on XQuAD eval records, and report how it does.

Run ``assistant eval`` on XQuAD with ``ASSISTANT_READER__SELECTIVE=`` (every checked short answer
shown, its signals recorded) and ``--near-miss`` (each question again without its gold paragraph),
for Arabic and English questions, then::

    .venv/bin/python benchmarks/fit_selective.py /tmp/xq/ar /tmp/xq/en --out docs/selective \
        --model assistant/data/selective.json

A record whose short answer was shown is a positive when the question is answerable and the short
answer right (:func:`assistant.eval.scoring.short_right`), a negative otherwise (a wrong short answer,
or any short answer to a near miss). scikit-learn's logistic regression is fitted on standardised
signals; its coefficients are written back in raw units, so the assistant applies it as a dot product.
Questions are split by id (a question and its near misses together) into five folds: the risk-coverage
curve, the expected calibration error and the thresholds' figures are out of fold. Each question
language gets its threshold: the lowest probability at which at least ``--refuse`` of XQuAD's own near
misses (``--near-miss``; synthetic ones are fitted on, not judged by) get no short answer. The model
then shipped is fitted on every record. Never fitted on the shipped question set.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answer.selective import SIGNALS  # noqa: E402
from assistant.eval.reports import read_records  # noqa: E402
from assistant.eval.scoring import Record  # noqa: E402


def usable(record: Record) -> bool:
    """A short answer was shown and its signals recorded (not the sources-disagree reply)."""
    return record.outcome == "answer" and bool(record.signals) and "conflict" not in record.signals


def label(record: Record) -> int:
    return int(record.answerable and bool(record.short_right))


def group_of(record: Record) -> str:
    """A question and its near miss share a group."""
    return record.id.removesuffix("-near-miss").split("-", 1)[-1]


def fold_of(record: Record, folds: int) -> int:
    return int(hashlib.sha256(group_of(record).encode()).hexdigest(), 16) % folds


def matrix(records: list[Record]) -> np.ndarray:
    return np.array([[float(r.signals.get(name, 0.0)) for name in SIGNALS] for r in records])


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression on standardised signals; coefficients and intercept in raw units."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=1.0, max_iter=2000).fit((x - scaler.mean_) / scale, y)
    coefficients = model.coef_[0] / scale
    intercept = float(model.intercept_[0] - np.sum(model.coef_[0] * scaler.mean_ / scale))
    return coefficients, intercept


def probabilities(x: np.ndarray, coefficients: np.ndarray, intercept: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x @ coefficients + intercept, -50, 50)))


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (p >= low) & (p < high if high < 1 else p <= high)
        if inside.any():
            total += inside.sum() / len(p) * abs(p[inside].mean() - y[inside].mean())
    return float(total)


def is_xquad_near_miss(record: Record) -> bool:
    return record.id.endswith("-near-miss")


def threshold_for(p: np.ndarray, used: list[Record], near_misses: int, refuse: float) -> float:
    """The lowest threshold at which at least ``refuse`` of the ``near_misses`` get no short answer
    (those refused or given the closest passage before the model count as refused already)."""
    for t in np.round(np.arange(0.0, 0.96, 0.01), 2):
        answered = sum(1 for prob, r in zip(p, used, strict=True) if prob >= t and is_xquad_near_miss(r))
        if 1 - answered / max(1, near_misses) >= refuse:
            return float(t)
    return 0.95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="eval output folders (records.jsonl in each)")
    parser.add_argument("--out", type=Path, required=True, help="folder for report.md, report.json and the plot")
    parser.add_argument("--model", type=Path, help="write the fitted model here (assistant/data/selective.json)")
    parser.add_argument("--refuse", type=float, default=0.8,
                        help="share of XQuAD near misses (per question language) to give no short answer")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()

    records = [r for run in args.runs for r in read_records(run / "records.jsonl")]
    used = [r for r in records if usable(r)]
    x, y = matrix(used), np.array([label(r) for r in used])
    folds = np.array([fold_of(r, args.folds) for r in used])
    oof = np.zeros(len(used))
    for k in range(args.folds):
        coefficients, intercept = fit(x[folds != k], y[folds != k])
        oof[folds == k] = probabilities(x[folds == k], coefficients, intercept)
    coefficients, intercept = fit(x, y)
    languages = sorted({r.lang for r in records})
    thresholds, by_lang = {}, {}
    for lang in languages:
        rows = [i for i, r in enumerate(used) if r.lang == lang]
        near_misses = sum(1 for r in records if r.lang == lang and is_xquad_near_miss(r))
        synthetic = sum(1 for r in records if r.lang == lang and not r.answerable and not is_xquad_near_miss(r))
        answerable = sum(1 for r in records if r.lang == lang and r.answerable)
        thresholds[lang] = threshold_for(oof[rows], [used[i] for i in rows], near_misses, args.refuse)
        kept = [i for i in rows if oof[i] >= thresholds[lang]]

        def refused(chosen: list[int], total: int, test=is_xquad_near_miss) -> float | None:
            return round(1 - sum(1 for i in chosen if test(used[i])) / total, 4) if total else None

        def synthetic_miss(r: Record) -> bool:
            return not r.answerable and not is_xquad_near_miss(r)

        by_lang[lang] = {
            "threshold": thresholds[lang],
            "near_miss_refused_before": refused(rows, near_misses),
            "near_miss_refused_after": refused(kept, near_misses),
            "synthetic_refused_before": refused(rows, synthetic, synthetic_miss),
            "synthetic_refused_after": refused(kept, synthetic, synthetic_miss),
            "answerable_short_right_before": round(sum(1 for i in rows if y[i]) / max(1, answerable), 4),
            "answerable_short_right_after": round(sum(1 for i in kept if y[i]) / max(1, answerable), 4),
            "wrong_among_shown_before": round(1 - float(y[rows].mean()), 4) if rows else None,
            "wrong_among_shown_after": round(1 - float(y[kept].mean()), 4) if kept else None,
        }
    threshold = max(thresholds.values())
    report = {
        "fitted_on": [str(run) for run in args.runs], "records": len(records), "short_answers_shown": len(used),
        "positives": int(y.sum()), "refuse_target": args.refuse,
        "ece_out_of_fold": round(expected_calibration_error(oof, y), 4), "by_language": by_lang,
        "coefficients": dict(zip(SIGNALS, map(float, coefficients), strict=True)), "intercept": intercept,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    plot_risk_coverage(oof, y, used, thresholds, args.out / "risk-coverage.png")
    if args.model is not None:
        model = {"coefficients": report["coefficients"], "intercept": intercept, "threshold": threshold,
                 "thresholds": thresholds,
                 "fitted_on": f"{date.today().isoformat()}: logistic regression on {len(used)} shown short answers "
                              f"of XQuAD ({', '.join(r.name for r in args.runs)}: answerable questions, their "
                              f"near misses and synthetic ones, {int(y.sum())} right); per language the threshold "
                              f"giving no short answer to {args.refuse:.0%} of XQuAD's near misses out of fold; "
                              "benchmarks/fit_selective.py"}
        args.model.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "coefficients"}, indent=2, ensure_ascii=False))
    return 0


def plot_risk_coverage(p: np.ndarray, y: np.ndarray, used: list[Record], thresholds: dict[str, float],
                       path: Path) -> None:
    """Wrong share among the short answers shown, against the share shown, as the threshold moves, per
    question language, with each language's threshold marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for lang, threshold in thresholds.items():
        rows = np.array([i for i, r in enumerate(used) if r.lang == lang])
        if not len(rows):
            continue
        order = rows[np.argsort(-p[rows])]
        shown = np.arange(1, len(order) + 1)
        risk = 1 - np.cumsum(y[order]) / shown
        line, = axis.plot(shown / len(order), risk, label=f"{lang} questions (out of fold)")
        axis.axvline((p[rows] >= threshold).mean(), linestyle="--", color=line.get_color(),
                     label=f"{lang} threshold {threshold:.2f}")
    axis.set_xlabel("share of checked short answers shown (coverage)")
    axis.set_ylabel("wrong among those shown (risk)")
    axis.set_title("Selective answering, XQuAD with near misses")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    raise SystemExit(main())

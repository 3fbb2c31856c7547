"""Fit the selective-answering model on XQuAD eval records, and report how it does.

Run ``assistant eval`` on XQuAD with ``ASSISTANT_READER_SELECTIVE=`` (every checked short answer
shown, its signals recorded) and ``--near-miss`` (each question again without its gold paragraph),
for Arabic and English questions, then::

    .venv/bin/python benchmarks/fit_selective.py /tmp/xq/ar /tmp/xq/en --out docs/selective \
        --model assistant/data/selective.json

A record whose short answer was shown is a positive when the question is answerable and the short
answer right (:func:`assistant.eval.scoring.short_right`), a negative otherwise (a wrong short answer,
or any short answer to a near miss). scikit-learn's logistic regression is fitted on standardised
signals; its coefficients are written back in raw units, so the assistant applies it as a dot product.
Questions are split by id (a question and its near miss together) into five folds: the risk-coverage
curve, the expected calibration error and the threshold's figures are out of fold. The threshold is the
lowest probability whose out-of-fold short answers are wrong at most ``--risk`` of the time; the model
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
from assistant.eval.scoring import Record, read_records  # noqa: E402


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


def threshold_for(p: np.ndarray, y: np.ndarray, risk: float) -> float:
    """The lowest threshold at which the short answers shown are wrong at most ``risk`` of the time."""
    for t in np.round(np.arange(0.05, 0.96, 0.01), 2):
        shown = p >= t
        if shown.any() and 1 - y[shown].mean() <= risk:
            return float(t)
    return 0.95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="eval output folders (records.jsonl in each)")
    parser.add_argument("--out", type=Path, required=True, help="folder for report.md, report.json and the plot")
    parser.add_argument("--model", type=Path, help="write the fitted model here (assistant/data/selective.json)")
    parser.add_argument("--risk", type=float, default=0.15,
                        help="wrong share allowed among the XQuAD short answers shown (out of fold)")
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
    threshold = threshold_for(oof, y, args.risk)
    coefficients, intercept = fit(x, y)

    near = np.array([not r.answerable for r in used])
    shown = oof >= threshold
    near_misses = [r for r in records if not r.answerable]
    answered_near = sum(1 for r, s, n in zip(used, shown, near, strict=True) if n and s)
    by_lang: dict[str, dict[str, float]] = {}
    for lang in sorted({r.lang for r in records}):
        rows = [i for i, r in enumerate(used) if r.lang == lang]
        lang_near = [r for r in near_misses if r.lang == lang]
        answered = sum(1 for i in rows if near[i] and shown[i])
        kept = [i for i in rows if shown[i]]
        by_lang[lang] = {
            "near_miss_refused_before": round(1 - sum(1 for i in rows if near[i]) / max(1, len(lang_near)), 4),
            "near_miss_refused_after": round(1 - answered / max(1, len(lang_near)), 4),
            "wrong_among_shown_before": round(1 - float(y[rows].mean()), 4) if rows else None,
            "wrong_among_shown_after": round(1 - float(y[kept].mean()), 4) if kept else None,
            "answerable_short_right_after": round(sum(1 for i in kept if y[i]) / max(1, sum(
                1 for r in records if r.lang == lang and r.answerable)), 4),
        }
    report = {
        "fitted_on": [str(run) for run in args.runs], "records": len(records), "short_answers_shown": len(used),
        "positives": int(y.sum()), "threshold": threshold, "risk_target": args.risk,
        "ece_out_of_fold": round(expected_calibration_error(oof, y), 4),
        "near_misses": len(near_misses), "near_misses_answered_after": answered_near, "by_language": by_lang,
        "coefficients": dict(zip(SIGNALS, map(float, coefficients), strict=True)), "intercept": intercept,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    plot_risk_coverage(oof, y, threshold, args.out / "risk-coverage.png")
    if args.model is not None:
        model = {"coefficients": report["coefficients"], "intercept": intercept, "threshold": threshold,
                 "fitted_on": f"{date.today().isoformat()}: logistic regression on {len(used)} shown short answers "
                              f"of XQuAD ({', '.join(r.name for r in args.runs)}: answerable questions and their "
                              f"near misses, {int(y.sum())} right); threshold for out-of-fold risk <= {args.risk}; "
                              "benchmarks/fit_selective.py"}
        args.model.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "coefficients"}, indent=2, ensure_ascii=False))
    return 0


def plot_risk_coverage(p: np.ndarray, y: np.ndarray, threshold: float, path: Path) -> None:
    """Wrong share among the short answers shown, against the share shown, as the threshold moves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = np.argsort(-p)
    shown = np.arange(1, len(p) + 1)
    risk = 1 - np.cumsum(y[order]) / shown
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(shown / len(p), risk, label="out of fold")
    at = (p >= threshold).mean()
    axis.axvline(at, linestyle="--", color="grey", label=f"threshold {threshold:.2f}")
    axis.set_xlabel("share of checked short answers shown (coverage)")
    axis.set_ylabel("wrong among those shown (risk)")
    axis.set_title("Selective answering on XQuAD (ar + en questions, with near misses)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    raise SystemExit(main())

"""Selective answering: how likely a short answer is right, and what the reply does about it. Pure.

A logistic model over the signals one answer has (the reader's scores, retrieval support, what the
short-answer checks found, whether the question crosses languages) gives the probability that the
short answer is right. Its coefficients are fitted by ``benchmarks/fit_selective.py`` on XQuAD
answerable questions and near misses (never on the shipped set) with scikit-learn, and shipped as
a small JSON file with a record of what it was fitted on. Applying it is a dot product, so the
assistant needs no scikit-learn at run time.

Three outcomes: the short answer (``answer``); no short answer, the closest passage quoted and
labelled so (``closest``); "not in the documents" (``refusal``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import ConfigError

#: The signals, in the order the model's coefficients take them.
SIGNALS = ("support", "margin", "across", "support_across", "margin_across", "second_gap", "asks_number",
           "asks_day", "asks_date", "asks_who", "asks_where", "rank", "failed", "gap", "span_chars",
           "coverage", "span_in_question")

OUTCOMES = ("answer", "closest", "refusal")


@dataclass(frozen=True)
class SelectiveModel:
    """Fitted logistic coefficients, and the probability a short answer needs to be shown, per question
    language (``thresholds["ar"]``; ``threshold`` for a language without one)."""

    coefficients: dict[str, float]
    intercept: float
    threshold: float
    fitted_on: str = ""
    thresholds: dict[str, float] = field(default_factory=dict)

    def probability(self, signals: dict[str, float]) -> float:
        """The probability that the short answer with these signals is right."""
        z = self.intercept + sum(weight * float(signals.get(name, 0.0)) for name, weight in self.coefficients.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def shows(self, signals: dict[str, float], language: str = "") -> bool:
        """Whether the short answer is shown to a question in ``language``."""
        return self.probability(signals) >= self.thresholds.get(language, self.threshold)


def load_selective(where: str) -> SelectiveModel | None:
    """The model ``where`` names: ``shipped`` (inside the package), a JSON file, or ``""`` for none
    (every short answer that passes the checks is shown).

    Raises:
        ConfigError: The file is missing or not a fitted model.
    """
    if not where:
        return None
    path = Path(str(resources.files("assistant") / "data" / "selective.json")) if where == "shipped" else Path(where)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        coefficients = {str(k): float(v) for k, v in raw["coefficients"].items()}
        unknown = set(coefficients) - set(SIGNALS)
        if unknown:
            raise KeyError(f"unknown signals {sorted(unknown)}")
        thresholds = {str(k): float(v) for k, v in raw.get("thresholds", {}).items()}
        return SelectiveModel(coefficients, float(raw["intercept"]), float(raw["threshold"]),
                              str(raw.get("fitted_on", "")), thresholds)
    except OSError as error:
        if where == "shipped":
            return None
        raise ConfigError(f"Cannot read the selective-answering model {path}: {error.strerror or error}; "
                          "set ASSISTANT_READER__SELECTIVE to a file benchmarks/fit_selective.py wrote, "
                          "'shipped', or '' for none.") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConfigError(f"{path} is not a selective-answering model ({error}); refit it with "
                          "benchmarks/fit_selective.py.") from None

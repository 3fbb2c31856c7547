"""Refusal thresholds fitted on records of runs that refused nothing on the score fitted. Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .scoring import Record


def calibrate_threshold(*record_sets: Sequence[Record], max_false_refusal: float = 0.05,
                        value: Callable[[Record], float | None] = lambda r: r.support,
                        ) -> tuple[float, dict[str, float]]:
    """The refusal threshold on ``support`` (or the score ``value`` picks: the reader's margin) that
    best separates answerable from unanswerable.

    Records must come from runs that refused nothing on support (threshold -inf); a question
    refused for another reason (a year asked, none given) counts as refused at every threshold, and
    one answered by the closest passage (its short answer withheld) as not refused: it is still
    answered, and the threshold decides it like any other.
    Several sets (the shipped one and XQuAD) are pooled: only thresholds that refuse at most
    ``max_false_refusal`` of each set's answerable questions qualify (the foundation issue's 5%),
    and among them the objective, on the pooled records, is refusal accuracy minus twice the
    false-refusal rate: refusing a question the corpus answers costs a reader more than quoting
    an unhelpful passage; ties go to the lower threshold. Records with no unanswerable question
    (XQuAD alone) give the highest qualifying threshold: the ceiling they put on it. Pure.

    Returns:
        The threshold and, on the pooled records, its refusal accuracy (when there are unanswerable
        questions) and false-refusal rate; ``(0.0, {})`` without answerable questions.
    """
    sets = [[r for r in records if r.answered] for records in record_sets]
    pooled = [r for records in sets for r in records]
    answerable = [r for r in pooled if r.answerable]
    unanswerable = [r for r in pooled if not r.answerable]
    if not answerable:
        return 0.0, {}

    def score(r: Record) -> float:
        v = value(r)
        return float("-inf") if v is None else v

    def refused(records: Sequence[Record], t: float) -> float:
        return sum(1 for r in records if refused_anyway(r) or score(r) < t) / len(records)

    capped = [[r for r in records if r.answerable] for records in sets]
    capped = [records for records in capped if records]
    best = (-np.inf, float("-inf"))
    for t in sorted({score(r) for r in pooled}):
        if any(refused(records, t) > max_false_refusal + 1e-9 for records in capped):
            break  # refusals only grow with the threshold
        objective = refused(unanswerable, t) - 2 * refused(answerable, t) if unanswerable else t
        if objective > best[0] + 1e-9:
            best = (objective, t)
    threshold = best[1]
    if threshold == float("-inf"):  # even the lowest threshold breaks the cap: refuse on support nothing
        threshold = min(score(r) for r in pooled)
    effect = {"false_refusal_rate": refused(answerable, threshold)}
    if unanswerable:
        effect["refusal_accuracy"] = refused(unanswerable, threshold)
    return threshold, effect


def refused_anyway(record: Record) -> bool:
    """Whether a record of a calibration run was refused for a reason other than the threshold fitted:
    its outcome says so; records from before outcomes were recorded say it by being ungrounded."""
    return record.outcome == "refusal" if record.outcome else not record.grounded

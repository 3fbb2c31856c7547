"""Retrieval and QA metrics the field uses, as pure functions over plain data.

Retrieval (hit@k, MRR@k, nDCG@k) scores a ranked list of ids against the relevant ones, with
duplicate ids removed first: a system that returns the same passage twice must not be rewarded
(or punished) for it, and several chunks of one gold paragraph map to that paragraph once
(llama_index PR #22683 shows how duplicates distort these figures).

Answers: token F1 and exact match with MLQA's normalisation (Lewis et al. 2020, the official
``mlqa_evaluation_v1.py``), after our Arabic spelling and Eastern-digit folding. Citations:
ALCE-style precision and recall (Gao et al. 2023), with "supports" decided by the cited passage
containing the evidence or gold span rather than by an NLI model, which no package ships offline.
Faithfulness: a lexical stand-in for RAGAS faithfulness (the share of the answer's content the
cited passages support), for the same reason.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ..text.normalize import normalize_arabic, numbers_in, tokenize

Relevance = Mapping[str, float] | set[str] | frozenset[str]


# -- ranking -------------------------------------------------------------------------------------

def unique_in_order(ids: Iterable[str]) -> list[str]:
    """The ids with repeats removed, first occurrence kept: ``[a, a, b, a] -> [a, b]``."""
    return list(dict.fromkeys(ids))


def rank_by_score(scores: Mapping[str, float]) -> list[str]:
    """Ids best first; equal scores are ordered by id, so a ranking never depends on dict order."""
    return [i for i, _ in sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))]


def _gains(relevant: Relevance) -> dict[str, float]:
    if isinstance(relevant, Mapping):
        return {k: float(v) for k, v in relevant.items() if v > 0}
    return {k: 1.0 for k in relevant}


def first_relevant_rank(ranked: Sequence[str], relevant: Relevance) -> int | None:
    """The 1-based rank of the first relevant id after de-duplication, or ``None``."""
    gains = _gains(relevant)
    for rank, item in enumerate(unique_in_order(ranked), start=1):
        if item in gains:
            return rank
    return None


def hit_at_k(ranked: Sequence[str], relevant: Relevance, k: int) -> float:
    """1.0 when a relevant id is among the first ``k`` distinct ids, else 0.0 (also when empty)."""
    rank = first_relevant_rank(ranked, relevant)
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: Relevance, k: int = 10) -> float:
    """1 / rank of the first relevant id among the first ``k`` distinct ids; 0.0 when none is."""
    rank = first_relevant_rank(ranked, relevant)
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def dcg_at_k(gains: Sequence[float], k: int) -> float:
    """Discounted cumulative gain, ``sum(g_i / log2(i + 1))`` over ranks ``i = 1..k``."""
    return sum(g / math.log2(i + 1) for i, g in enumerate(gains[:k], start=1))


def ndcg_at_k(ranked: Sequence[str], relevant: Relevance, k: int = 10) -> float:
    """Normalised DCG of the first ``k`` distinct ids.

    Args:
        ranked: Ids best first (duplicates are dropped before scoring).
        relevant: The relevant ids (gain 1 each), or id -> graded gain.
        k: The cut-off.

    Returns:
        DCG / ideal DCG, in 0..1; 0.0 when nothing is relevant or nothing was retrieved.
    """
    gains = _gains(relevant)
    ideal = dcg_at_k(sorted(gains.values(), reverse=True), k)
    if ideal <= 0:
        return 0.0
    return dcg_at_k([gains.get(i, 0.0) for i in unique_in_order(ranked)], k) / ideal


def retrieval_scores(ranked: Sequence[str], relevant: Relevance, ks: Sequence[int] = (1, 5),
                     depth: int = 10) -> dict[str, float]:
    """``hit@k`` for each k, ``mrr@depth`` and ``ndcg@depth`` of one ranked list."""
    scores = {f"hit@{k}": hit_at_k(ranked, relevant, k) for k in ks}
    scores[f"mrr@{depth}"] = reciprocal_rank(ranked, relevant, depth)
    scores[f"ndcg@{depth}"] = ndcg_at_k(ranked, relevant, depth)
    return scores


def hit_curve(rankings: Sequence[Sequence[str]], relevants: Sequence[Relevance], max_k: int = 10) -> list[float]:
    """Mean hit@k for k = 1..max_k over several questions (empty list when there are none)."""
    if not rankings:
        return []
    ranks = [first_relevant_rank(r, g) for r, g in zip(rankings, relevants, strict=True)]
    return [sum(1 for r in ranks if r is not None and r <= k) / len(ranks) for k in range(1, max_k + 1)]


# -- answers (MLQA) ------------------------------------------------------------------------------

_ASCII_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = {
    "en": re.compile(r"\b(a|an|the)\b"),
    # MLQA's own pattern: it removes "ال" wherever it occurs, not only as the article.
    "ar": re.compile(r"\sال^|ال"),
}


def _is_punctuation(ch: str) -> bool:
    # MLQA's set: every Unicode "P*" character plus ASCII string.punctuation (which adds $+<=>^`|~).
    return ch in _ASCII_PUNCTUATION or unicodedata.category(ch).startswith("P")


def normalize_mlqa(text: str, lang: str) -> str:
    """MLQA's answer normalisation, after Arabic spelling and digit folding.

    Folds أ/إ/آ to ا, ة to ه, ى to ي, strips diacritics and tatweel, maps Eastern digits to
    ASCII (:func:`assistant.text.normalize_arabic`); then, as MLQA does, lower-cases, drops
    Unicode punctuation, removes articles (English a/an/the; Arabic ال) and squeezes spaces.

    Args:
        text: An answer or a gold span.
        lang: The language of the text, ``ar`` or ``en`` (others keep their articles).
    """
    text = "".join(ch for ch in normalize_arabic(text).lower() if not _is_punctuation(ch))
    pattern = _ARTICLES.get(lang)
    if pattern is not None:
        text = pattern.sub(" ", text)
    return " ".join(text.split())


def token_f1(prediction: str, truth: str, lang: str) -> float:
    """SQuAD/MLQA token F1 between a prediction and one gold answer (0.0 when either is empty)."""
    predicted = normalize_mlqa(prediction, lang).split()
    gold = normalize_mlqa(truth, lang).split()
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, truth: str, lang: str) -> float:
    """1.0 when both normalise to the same text."""
    return float(normalize_mlqa(prediction, lang) == normalize_mlqa(truth, lang))


def best_over_truths(metric: str, prediction: str, truths: Sequence[str], lang: str) -> float:
    """The best ``"f1"`` or ``"em"`` over several gold answers, as SQuAD and MLQA score (0 for none)."""
    function = {"f1": token_f1, "em": exact_match}.get(metric)
    if function is None:
        raise ValueError(f"Unknown answer metric {metric!r}; use 'f1' or 'em'.")
    return max((function(prediction, t, lang) for t in truths), default=0.0)


_CITATION_MARK = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")


def strip_citation_marks(text: str) -> str:
    """The answer without its ``[n]`` markers."""
    return " ".join(_CITATION_MARK.sub(" ", text).split())


# -- citations (ALCE) and faithfulness (RAGAS) ---------------------------------------------------

def normalize_answer(text: str) -> str:
    """Fold Arabic spelling, diacritics and Eastern digits; lower-case; squeeze spaces."""
    return " ".join(normalize_arabic(text).split())


def contains_answer(answer: str, accepted: str) -> bool:
    """True when the normalised answer contains the accepted string (answer accuracy).

    Numbers match whole: "80" is not found inside "800" or "1980".
    """
    target = normalize_answer(accepted)
    if not target:
        return False
    pattern = re.escape(target)
    if target[0].isdigit():
        pattern = r"(?<!\d)" + pattern
    if target[-1].isdigit():
        pattern += r"(?!\d)"
    return re.search(pattern, normalize_answer(answer)) is not None


def contains_normalized(passage: str, span: str) -> bool:
    """True when the passage holds the span once both are folded (spelling, digits, case, spaces)."""
    target = normalize_answer(span)
    return bool(target) and target in normalize_answer(passage)


def citation_support(cited_passages: Sequence[str], evidence: Sequence[str]) -> list[bool]:
    """For each cited passage, whether it contains one of the evidence or gold spans."""
    return [any(contains_normalized(p, e) for e in evidence) for p in cited_passages]


def citation_precision(supported: Sequence[bool]) -> float | None:
    """The share of an answer's citations that support it; ``None`` for an answer with none."""
    return sum(supported) / len(supported) if supported else None


def citation_recall(supported: Sequence[bool]) -> float:
    """1.0 when at least one of the answer's citations supports it (ALCE recall for one claim)."""
    return 1.0 if any(supported) else 0.0


def faithfulness(answer: str, passages: Sequence[str], ignore: Iterable[str] = ()) -> float | None:
    """The share of the answer's content the passages support: a lexical RAGAS-faithfulness proxy.

    The answer's search tokens (normalised, stemmed, stopwords out) and its numbers are its
    content; each counts as supported when a passage holds it. ``ignore`` holds the tokens of
    fixed wording around quotes ("the document says"), which make no claim.

    Returns:
        0..1, or ``None`` when the answer has no content to check (a refusal).
    """
    ignored = set(ignore)
    text = strip_citation_marks(answer)
    claims = [t for t in tokenize(text) if t not in ignored and not t.isdigit()] + numbers_in(text)
    if not claims:
        return None
    support = {t for p in passages for t in tokenize(p)} | {n for p in passages for n in numbers_in(p)}
    return sum(1 for c in claims if c in support) / len(claims)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation; 0.0 for no values."""
    return float(np.percentile(values, q)) if len(values) else 0.0


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are not ``None``; ``None`` when there are none."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None

"""Metrics against hand-computed cases: duplicates, ties, empty retrievals, nDCG known values."""

from __future__ import annotations

import math

import pytest

from assistant.eval.metrics import (
    best_over_truths,
    citation_precision,
    citation_recall,
    citation_support,
    contains_answer,
    exact_match,
    faithfulness,
    first_relevant_rank,
    hit_at_k,
    hit_curve,
    mean,
    ndcg_at_k,
    normalize_mlqa,
    percentile,
    rank_by_score,
    reciprocal_rank,
    retrieval_scores,
    strip_citation_marks,
    token_f1,
    unique_in_order,
)


def test_duplicates_are_removed_before_ranking():
    ranked = ["a", "a", "a", "b", "g"]
    assert unique_in_order(ranked) == ["a", "b", "g"]
    assert first_relevant_rank(ranked, {"g"}) == 3  # not 5
    assert hit_at_k(ranked, {"g"}, 3) == 1.0
    assert reciprocal_rank(ranked, {"g"}) == pytest.approx(1 / 3)
    # A repeated gold id is counted once: DCG 1/log2(2), not 1/log2(2) + 1/log2(3).
    assert ndcg_at_k(["g", "g", "x"], {"g"}) == pytest.approx(1.0)


def test_several_chunks_of_one_gold_paragraph_count_once():
    # Chunks mapped to their paragraph: p1 p1 p2 -> p1 p2.
    assert retrieval_scores(["p1", "p1", "p2"], {"p2"}) == {
        "hit@1": 0.0, "hit@5": 1.0, "mrr@10": 0.5, "ndcg@10": pytest.approx(1 / math.log2(3))}


def test_empty_retrieval_and_empty_gold_score_zero():
    assert retrieval_scores([], {"g"}) == {"hit@1": 0.0, "hit@5": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
    assert ndcg_at_k(["a"], set()) == 0.0
    assert reciprocal_rank(["a"], set()) == 0.0
    assert hit_curve([], []) == []


def test_cutoffs():
    ranked = [str(i) for i in range(12)]
    assert reciprocal_rank(ranked, {"10"}, k=10) == 0.0  # rank 11
    assert reciprocal_rank(ranked, {"9"}, k=10) == pytest.approx(0.1)
    assert hit_at_k(ranked, {"4"}, 5) == 1.0 and hit_at_k(ranked, {"5"}, 5) == 0.0


def test_ties_are_broken_by_id_so_rankings_are_stable():
    scores = {"c": 0.5, "a": 0.5, "b": 0.9, "d": 0.1}
    assert rank_by_score(scores) == ["b", "a", "c", "d"]
    assert rank_by_score(dict(reversed(list(scores.items())))) == ["b", "a", "c", "d"]
    assert reciprocal_rank(rank_by_score(scores), {"c"}) == pytest.approx(1 / 3)


def test_ndcg_binary_hand_computed():
    # Relevant at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3).
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["x", "g1", "y", "g2"], {"g1", "g2"}) == pytest.approx(expected)
    assert expected == pytest.approx(0.650921, abs=1e-6)


def test_ndcg_graded_known_value():
    # Wikipedia's worked example: retrieved gains 3 2 3 0 1 2 -> DCG 6.861; two more relevant documents
    # exist that were not retrieved (gains 3 and 2), so the ideal is 3 3 3 2 2 2 -> 8.740; nDCG 0.785.
    gains = {"d1": 3, "d2": 2, "d3": 3, "d4": 0, "d5": 1, "d6": 2, "d7": 3, "d8": 2}
    assert ndcg_at_k(["d1", "d2", "d3", "d4", "d5", "d6"], gains, k=6) == pytest.approx(0.785, abs=5e-4)


def test_ndcg_ideal_is_capped_at_k():
    # Three relevant ids but k = 1: a relevant id first is perfect.
    assert ndcg_at_k(["a", "x"], {"a", "b", "c"}, k=1) == 1.0


def test_hit_curve_is_cumulative():
    curve = hit_curve([["g", "x"], ["x", "g"], ["x", "y"], []], [{"g"}] * 4, max_k=3)
    assert curve == [0.25, 0.5, 0.5]


def test_mlqa_normalisation_english_and_arabic():
    assert normalize_mlqa("The  Denver Broncos!", "en") == "denver broncos"
    # Arabic: hamza forms and ta marbuta folded, diacritics and punctuation gone, "ال" removed as MLQA does.
    assert normalize_mlqa("«المدرسةُ» الأولى،", "ar") == "مدرسه اولي"
    assert normalize_mlqa("٢٠١٦", "ar") == "2016"


def test_token_f1_hand_computed():
    # prediction 4 tokens, gold 2, 2 shared: P 0.5, R 1.0, F1 2/3.
    assert token_f1("the Denver Broncos won easily today", "Denver Broncos", "en") == pytest.approx(
        2 * (2 / 5) * 1 / (2 / 5 + 1))
    assert token_f1("Denver Broncos", "the Denver Broncos", "en") == 1.0
    assert token_f1("", "Broncos", "en") == 0.0
    assert token_f1("فاز فريق دنفر برونكو", "دنفر برونكو", "ar") == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert best_over_truths("f1", "Broncos", ["Panthers", "Broncos"], "en") == 1.0
    assert best_over_truths("em", "x", [], "en") == 0.0
    assert exact_match("٣٠٨", "308", "ar") == 1.0
    with pytest.raises(ValueError, match="'f1' or 'em'"):
        best_over_truths("bleu", "x", ["x"], "en")


def test_answer_containment_keeps_numbers_whole():
    assert contains_answer("بلغ ٨٠٠ عنصر", "800")
    assert not contains_answer("in 1980", "80")
    assert contains_answer("الأولى", "الاولى")


def test_citation_precision_and_recall():
    passages = ["قتل ٧ مدنيين في الهجوم", "لا شيء هنا", "Seven civilians died"]
    supported = citation_support(passages, ["7 مدنيين"])
    assert supported == [True, False, False]
    assert citation_precision(supported) == pytest.approx(1 / 3)
    assert citation_recall(supported) == 1.0
    assert citation_precision([]) is None and citation_recall([]) == 0.0


def test_faithfulness_proxy():
    passage = "Rescuers said 136 people were killed in the prison clashes."
    assert faithfulness("136 people were killed [1]", [passage]) == 1.0
    assert faithfulness("140 people were killed [1]", [passage]) == pytest.approx(2 / 3)  # people, kill; 140 not
    assert faithfulness("The document says: killed [1]", [passage], ignore={"document"}) == 1.0
    assert faithfulness("[1]", [passage]) is None


def test_small_helpers():
    assert strip_citation_marks("a [1] b [2, 3]") == "a b"
    assert mean([None, 1.0, 0.0]) == 0.5 and mean([None]) is None
    assert percentile([10, 20, 30, 40], 50) == 25.0 and percentile([], 95) == 0.0

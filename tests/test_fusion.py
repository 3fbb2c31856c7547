from __future__ import annotations

from assistant.retrieval import FusionWeights, fuse, lexical_coverage


def test_coverage_is_share_of_query_tokens_in_vocabulary():
    assert lexical_coverage(["a", "b", "c", "d"], {"a", "b"}) == 0.5
    assert lexical_coverage([], {"a"}) == 0.0


def test_zero_coverage_keeps_the_dense_order():
    dense = {"x": 0.80, "y": 0.78, "z": 0.70}
    lexical = {"z": 12.0, "y": 1.0}
    ranked = fuse(dense, lexical, coverage=0.0, weights=FusionWeights(lexical=0.5))
    assert [i for i, _ in ranked] == ["x", "y", "z"]


def test_full_coverage_lets_strong_lexical_evidence_lift_a_passage():
    dense = {"x": 0.80, "y": 0.79, "z": 0.60}
    lexical = {"y": 10.0, "x": 0.5}
    ranked = fuse(dense, lexical, coverage=1.0, weights=FusionWeights(lexical=0.5))
    assert ranked[0][0] == "y"


def test_lexical_only_candidates_are_kept_and_ties_are_stable():
    ranked = fuse({}, {"b": 1.0, "a": 1.0}, coverage=1.0, weights=FusionWeights())
    assert [i for i, _ in ranked] == ["a", "b"]
    assert fuse({}, {}, 1.0, FusionWeights()) == []

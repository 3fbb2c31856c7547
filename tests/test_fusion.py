from __future__ import annotations

import pytest

from assistant.retrieve.retriever import fuse, lexical_coverage, max_by_chunk


def test_coverage_is_share_of_query_tokens_in_vocabulary():
    assert lexical_coverage(["a", "b", "c", "d"], {"a", "b"}) == 0.5
    assert lexical_coverage([], {"a"}) == 0.0


def test_a_signal_with_zero_weight_cannot_change_the_order():
    dense = {"x": 0.80, "y": 0.78, "z": 0.70}
    lexical = {"z": 12.0, "y": 1.0}
    ranked = fuse({"dense": dense, "lexical": lexical}, {"dense": 1.0, "lexical": 0.0})
    assert [i for i, _ in ranked] == ["x", "y", "z"]


def test_strong_lexical_evidence_lifts_a_passage_when_weighted():
    dense = {"x": 0.80, "y": 0.79, "z": 0.60}
    lexical = {"y": 10.0, "x": 0.5, "z": 0.4}
    ranked = fuse({"dense": dense, "lexical": lexical}, {"dense": 1.0, "lexical": 1.5})
    assert ranked[0][0] == "y"


def test_z_scores_are_weighted_and_missing_ids_get_the_signal_minimum():
    ranked = dict(fuse({"a": {"p": 1.0, "q": 3.0}, "b": {"p": 2.0, "r": 0.0}}, {"a": 1.0, "b": 2.0}))
    # a: mean 2, std 1 -> p -1, q +1, r (missing, floor 1.0) -1
    # b: mean 1, std 1 -> p +1, r -1, q (missing, floor 0.0) -1
    assert ranked == pytest.approx({"p": -1 + 2, "q": 1 - 2, "r": -1 - 2})


def test_flat_signal_contributes_nothing_but_its_candidates_stay():
    ranked = fuse({"dense": {"a": 0.9, "b": 0.5}, "lexical": {"c": 0.0, "a": 0.0}}, {"dense": 1.0, "lexical": 1.0})
    assert [i for i, _ in ranked][:2] == ["a", "c"] or [i for i, _ in ranked][0] == "a"
    assert {i for i, _ in ranked} == {"a", "b", "c"}


def test_ties_are_stable_and_empty_is_empty():
    ranked = fuse({"lexical": {"b": 1.0, "a": 1.0}}, {"lexical": 1.0})
    assert [i for i, _ in ranked] == ["a", "b"]
    assert fuse({}, {"dense": 1.0}) == []


def test_sentences_pool_to_chunks_by_maximum():
    found = [("c1:0", "c1", 0.5), ("c1:1", "c1", 0.7), ("c2:0", "c2", 0.6)]
    assert max_by_chunk(found) == {"c1": 0.7, "c2": 0.6}

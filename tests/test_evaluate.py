from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.eval.calibration import calibrate_threshold
from assistant.eval.metrics import contains_answer
from assistant.eval.questions import Question, default_question_files, load_questions
from assistant.eval.scoring import Record, is_correct, summarize
from assistant.types import Answer


def _record(id_: str, lang: str, answerable: bool, grounded: bool, correct: bool, cited: bool = True,
            latency: float = 10.0, support: float = 0.0) -> Record:
    return Record(id_, lang, "q", "a", grounded, answerable, correct, cited, [], [], latency, support)


def test_numbers_match_whole_after_normalisation():
    assert contains_answer("بلغ ٨٠٠ عنصر", "800")
    assert not contains_answer("بلغ 800 عنصر", "80")
    assert contains_answer("نحو 80 سجيناً", "80")
    assert contains_answer("القائد مظلوم عبدي", "مظلوم عبدى")


def test_all_answers_requires_every_claim():
    q = Question("c", "en", ["How many escaped?"], ["80", "800"], [], True, all_answers=True)
    assert is_correct(q, Answer("80 [1] ... 800 [2]", True, "en"))
    assert not is_correct(q, Answer("800 [1]", True, "en"))


def test_unanswerable_is_correct_only_when_refused():
    q = Question("u", "ar", ["من هو مدير السجن؟"], [], [], answerable=False)
    assert is_correct(q, Answer("لم أجد", False, "ar"))
    assert not is_correct(q, Answer("«...» [1]", True, "ar"))


def test_summary_metrics():
    records = [
        _record("1", "ar", True, True, True, latency=10),
        _record("2", "ar", True, False, False, cited=False, latency=20),
        _record("3", "en", True, True, False, cited=False, latency=30),
        _record("4", "en", False, False, True, latency=40),
    ]
    s = summarize(records)
    assert s["accuracy_ar"] == 0.5 and s["accuracy_en"] == 0.0
    assert s["citation_evidence_rate"] == 0.5  # of the grounded answerable ones
    assert s["refusal_accuracy"] == 1.0
    assert s["false_refusal_rate"] == round(1 / 3, 4)
    assert s["latency_ms_p50"] == 25.0


def test_calibration_separates_when_it_can():
    records = [_record(str(i), "ar", True, True, True, support=s) for i, s in enumerate([0.8, 0.9, 0.95])]
    records += [_record(f"u{i}", "ar", False, True, False, support=s) for i, s in enumerate([0.5, 0.6])]
    threshold, effect = calibrate_threshold(records)
    assert 0.6 < threshold <= 0.8  # refuses both unanswerable, no answerable
    assert effect == {"refusal_accuracy": 1.0, "false_refusal_rate": 0.0}


def test_calibration_keeps_false_refusals_under_the_ceiling_and_fits_answerable_only_sets():
    answerable = [_record(str(i), "ar", True, True, True, support=0.80 + i / 100) for i in range(20)]
    overlapping = [_record(f"u{i}", "ar", False, True, False, support=s) for i, s in enumerate([0.5, 0.83, 0.9])]
    # Refusing the 0.83 and 0.9 unanswerables would refuse 4 and 11 of 20 answerable: over 5%.
    threshold, effect = calibrate_threshold(answerable + overlapping)
    assert 0.5 < threshold <= 0.81 and effect["false_refusal_rate"] <= 0.05
    assert abs(effect["refusal_accuracy"] - 1 / 3) < 1e-9
    # Answerable only (XQuAD): the highest threshold refusing at most 5% (1 of 20) of them.
    threshold, effect = calibrate_threshold(answerable)
    assert threshold == 0.81 and effect == {"false_refusal_rate": 0.05}
    assert calibrate_threshold(answerable, max_false_refusal=0.0)[0] == 0.80
    assert calibrate_threshold(overlapping) == (0.0, {})


def test_calibration_counts_questions_refused_for_other_reasons():
    # Two of 20 answerable are refused whatever the threshold (a year asked, none given): the 5%
    # budget is spent before any threshold refuses one more.
    answerable = [_record(str(i), "ar", True, i >= 2, True, support=0.80 + i / 100) for i in range(20)]
    threshold, effect = calibrate_threshold(answerable)
    assert threshold == 0.80 and effect == {"false_refusal_rate": 0.1}


def test_calibration_takes_a_withheld_short_answer_for_an_answer_not_a_refusal():
    # Five of 20 answerable are answered by the closest passage (short answer withheld), one refused:
    # only the refused one is refused at every threshold; the withheld ones are the threshold's to decide.
    answerable = [_record(str(i), "ar", True, i >= 6, True, support=0.80 + i / 100) for i in range(20)]
    answerable = [replace(r, outcome="refusal" if i == 0 else "closest" if i < 6 else "answer")
                  for i, r in enumerate(answerable)]
    threshold, effect = calibrate_threshold(answerable)
    assert threshold == 0.81 and effect == {"false_refusal_rate": 0.05}


def test_pooled_calibration_caps_each_set_and_weighs_all_answerable_questions():
    # The small set alone refuses its 0.885 unanswerable at 1 false refusal in 20 (its cap).
    small = [_record(f"s{i}", "ar", True, True, True, support=0.88 + i / 100) for i in range(20)]
    small += [_record(f"u{i}", "ar", False, True, False, support=s) for i, s in enumerate([0.5, 0.885])]
    assert calibrate_threshold(small)[0] == 0.89
    # A large answerable-only set whose supports spread lower: the same threshold would refuse
    # 40% of it; the pooled fit stays under 5% there too and refuses only the clear case.
    large = [_record(f"x{i}", "ar", True, True, True, support=0.70 + i / 500) for i in range(100)]
    threshold, effect = calibrate_threshold(small, large)
    assert 0.5 < threshold <= 0.70
    assert effect["refusal_accuracy"] == 0.5 and effect["false_refusal_rate"] == 0.0


def test_shipped_question_set_meets_its_spec():
    questions, conversations, dialogues = (load_questions(p) for p in default_question_files())
    assert len(questions) >= 60
    assert sum(q.lang == "ar" and q.answerable for q in questions) >= 25
    assert sum(q.lang == "en" and q.answerable for q in questions) >= 25
    assert sum(not q.answerable for q in questions) >= 8
    assert len(conversations) >= 5 and all(len(c.turns) > 1 for c in conversations)
    assert any(q.all_answers for q in questions)
    article = (Path(__file__).resolve().parent.parent / "corpus" / "ghweiran-prison.txt").read_text()
    for item in questions + conversations + dialogues:
        assert all(e in article for e in item.evidence), item.id
    # The conversation set: at least 40 scored turns in each language, with unanswerable turns among them.
    for lang in ("ar", "en"):
        turns = [d for d in dialogues if d.lang == lang]
        assert len(turns) >= 20 and any(not d.answerable for d in turns)
    assert len(dialogues) >= 40 and all(d.conversation for d in dialogues)
    assert all(d.turns[:-1] == dialogues[i - 1].turns for i, d in enumerate(dialogues) if len(d.turns) > 1)


def test_a_dialogue_is_scored_on_every_turn(tmp_path: Path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"id": "d1", "lang": "en", "turns": [
        {"question": "Who leads the SDF?", "answers": ["Abdi"]}, {"question": "And his deputy?"}]}) + "\n")
    first, second = load_questions(path)
    assert first.turns == ["Who leads the SDF?"] and first.answerable and first.id == "d1-t1"
    assert second.turns == ["Who leads the SDF?", "And his deputy?"] and not second.answerable


def test_bad_question_file_names_the_line(tmp_path: Path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "a", "question": "x"}) + "\n{broken\n")
    with pytest.raises(ConfigError, match=":2:"):
        load_questions(path)

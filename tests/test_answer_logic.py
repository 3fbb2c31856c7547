"""The extractive answerer's pure parts: question kinds, short answers, attribution, citations."""

from __future__ import annotations

import re

import pytest

from assistant.answer.analysis import Candidate, NumberClaim, pin_short_answer, question_kind, same_subject, speaker_of
from assistant.answer.extractive import compose_answer, find_conflict, refusal
from assistant.answer.prompts.loader import load_extractive, placeholders
from assistant.chat import needs_context
from assistant.text.glossary import Glossary
from assistant.text.normalize import Span, fold_suffix, numbers_in, tokenize
from assistant.types import Chunk, Hit

TEMPLATES = load_extractive()


def _candidate(text: str, start: int, score: float, source: str = "a.txt", overlap: float = 0.5) -> Candidate:
    hit = Hit.of(Chunk(f"c{start}", source, "", 0, start, start + len(text), text), score)
    return Candidate(0, hit, Span(start, start + len(text), text), score, overlap, score)


def test_question_kinds():
    assert question_kind("كم عدد القتلى؟") == "number"
    assert question_kind("How many civilians were killed?") == "number"
    assert question_kind("متى عادت الاشتباكات؟") == "day"
    assert question_kind("On which day did the clashes resume?") == "day"
    assert question_kind("من هو القائد العام لقسد؟") == "who"
    assert question_kind("Who leads the SDF?") == "who"
    assert question_kind("What did the leaflets contain?") == "other"


def test_only_an_unambiguous_number_leads_the_answer():
    quote = "قتل 84 من التنظيم و45 من الحراس وسبعة مدنيين"
    assert pin_short_answer("number", quote, tokenize("كم عدد المدنيين الذين قتلوا؟")) == "7"
    assert pin_short_answer("number", quote, tokenize("كم قتيلا من الحراس؟")) == "45"
    assert pin_short_answer("number", quote, tokenize("كم عدد القتلى؟")) == ""  # three counts, none named
    # The counted noun may sit before the number; a number the question gives is not its answer.
    assert pin_short_answer("number", "وأكدت أعماق أن عدد الفارين من السجن بلغ 800 عنصر",
                            tokenize("كم عدد الفارين من السجن بحسب أعماق؟")) == "800"
    assert pin_short_answer("number", "سجل 11 نقطة في الدقائق الثلاث الأخيرة",
                            tokenize("كم نقطة سجل في الدقائق الثلاث الأخيرة؟")) == "11"
    # A lone number that counts something else does not answer: 4 SDF members, not the population.
    lone = "ونشر تسجيلاً مصوراً يظهر فيه 4 من عناصر قسد يناشدون زعيمهم"
    assert pin_short_answer("number", lone, tokenize("كم يبلغ عدد سكان مدينة الحسكة؟")) == ""
    assert pin_short_answer("number", lone, tokenize("كم عنصراً من قسد ظهر في التسجيل المصور؟")) == "4"
    # Across languages only through a glossary: an English question shares no word with the quote.
    english = tokenize("How many SDF members appear in the video?")
    assert pin_short_answer("number", lone, english, across=True) == ""
    glossary = Glossary({"member": frozenset({"عضو"}), "appear": frozenset({"ظهر"}), "civilian": frozenset({"مدني"}),
                         "kill": frozenset({"قتل"}), "popul": frozenset({"سكان"})})
    assert pin_short_answer("number", lone, english, across=True, glossary=glossary) == "4"
    assert pin_short_answer("number", quote, tokenize("How many civilians were killed?"), True, glossary) == "7"
    assert pin_short_answer("number", quote, tokenize("How many were killed?"), True, glossary) == ""  # 84? 45?
    assert pin_short_answer("number", lone, tokenize("What is the population of Hasakah?"), True, glossary) == ""
    assert pin_short_answer("number", quote) == ""
    assert pin_short_answer("day", "عادت الاشتباكات فجر الاثنين") == "Monday"
    assert pin_short_answer("day", "عادت الاشتباكات يوم الاثنين 3 يناير 2022") == ""  # a date, not a weekday
    assert pin_short_answer("day", "كان أحد أكثر الأيام دموية") == ""  # "أحد" is "one of", not Sunday
    assert pin_short_answer("other", "بلغ 800 عنصر") == ""


def test_speaker_attribution():
    assert speaker_of("وأكدت أعماق أن عدد الفارين من السجن بلغ 800 عنصر") == "أعماق"
    assert speaker_of("وأشارت أنها تمكنت من إلقاء القبض على 80") == ""
    assert speaker_of("مقتل 136 شخصاً، بحسب المرصد السوري لحقوق الانسان.").startswith("المرصد السوري")


def test_every_marker_maps_to_exactly_one_citation():
    ranked = [_candidate("وأكدت أعماق أن عدد الفارين بلغ 800 عنصر.", 100, 0.9),
              _candidate("يقدر عددهم بحدود 80 سجيناً.", 10, 0.89)]
    conflict = find_conflict("number", ranked, 0.05, 0.02,
                             lambda q: NumberClaim(numbers_in(q)[0], "عدد الفارين من السجن", 0.5))
    answer = compose_answer("How many escaped?", "en", ranked, "number", "", conflict, TEMPLATES)
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert sorted(markers) == [c.number for c in answer.citations] == [1, 2]
    assert "800" in answer.text and "80 سجيناً" in answer.text
    assert answer.text.startswith("The sources disagree")
    assert "According to أعماق" in answer.text
    assert answer.citations[0].quote_start == 100


def test_no_conflict_when_values_agree_scores_are_far_apart_or_numbers_count_other_things():
    def claim(q: str) -> NumberClaim:
        return NumberClaim(numbers_in(q)[0], "الفارين من السجن", 0.9 if "سجين" in q or "عنصر" in q else 0.5)

    same = [_candidate("بلغ 80 عنصر.", 0, 0.9), _candidate("قرابة 80 سجين.", 50, 0.9)]
    assert find_conflict("number", same, 0.05, 0.02, claim) == []
    far = [_candidate("بلغ 800 عنصر.", 0, 0.9), _candidate("قرابة 80 سجين.", 50, 0.5)]
    assert find_conflict("number", far, 0.05, 0.02, claim) == []
    vehicles = [_candidate("بلغ 800 عنصر.", 0, 0.9), _candidate("إحراق نحو 25 آلية.", 50, 0.9)]
    assert find_conflict("number", vehicles, 0.05, 0.02, claim) == []


def test_a_conflict_needs_another_voice():
    def claim(q: str) -> NumberClaim:
        return NumberClaim(numbers_in(q)[0], "عدد الفارين من السجن", 0.9)

    # One text giving two figures without naming who says so is not two sources disagreeing.
    unattributed = [_candidate("بلغ عدد الفارين من السجن 800.", 0, 0.9),
                    _candidate("بلغ عدد الفارين من السجن 80.", 50, 0.9)]
    assert find_conflict("number", unattributed, 0.05, 0.02, claim) == []
    two_documents = [unattributed[0], _candidate("بلغ عدد الفارين من السجن 80.", 50, 0.9, source="b.txt")]
    assert [value for _, value, _ in find_conflict("number", two_documents, 0.05, 0.02, claim)] == ["800", "80"]
    named = [_candidate("وأكدت أعماق أن عدد الفارين من السجن بلغ 800.", 0, 0.9), unattributed[1]]
    assert [speaker for _, _, speaker in find_conflict("number", named, 0.05, 0.02, claim)] == ["أعماق", ""]


def test_single_answer_leads_with_the_short_answer_in_the_question_language():
    ranked = [_candidate("وأكدت أعماق أن عدد الفارين بلغ 800 عنصر.", 0, 0.9)]
    answer = compose_answer("كم عدد الفارين؟", "ar", ranked, "number", "800", [], TEMPLATES)
    assert answer.text == "800 — «وأكدت أعماق أن عدد الفارين بلغ 800 عنصر.» [1]"
    assert answer.grounded and answer.language == "ar"


def test_refusal_is_in_the_question_language():
    assert refusal("ar", TEMPLATES).text == TEMPLATES["ar"]["refusal"]
    assert not refusal("en", TEMPLATES).grounded


def test_templates_placeholders_are_checked():
    assert placeholders("{short} — «{quote}» [{n}]") == {"short", "quote", "n"}
    assert set(TEMPLATES) == {"ar", "en"}


def test_same_subject_needs_shared_content_words():
    escaped_80 = NumberClaim("80", "اكثر الفارين من السجن الذين يقدر عددهم بحدود 80 سجينا", 0.8)
    escaped_800 = NumberClaim("800", "واكدت اعماق ان عدد الفارين من السجن بلغ 800 عنصر", 0.8)
    days_3 = NumberClaim("3", "يشنه عناصر التنظيم منذ ثلاثه ايام علي السجن في مدينه", 0.8)
    killed_13 = NumberClaim("13", "عمليات عسكريه دقيقه واكد المركز مقتل 13 من عناصر", 0.8)
    killed_136 = NumberClaim("136", "منذ بدايتها وحتي اللحظه الي مقتل 136 شخصا", 0.8)
    assert same_subject(escaped_80, escaped_800)
    assert not same_subject(killed_13, killed_136)
    assert not same_subject(days_3, escaped_800)  # they share "السجن", but 3 days is a duration


TOLL = ("وأدت الاشتباكات بين تنظيم الدولة وقسد، منذ بدايتها وحتى اللحظة إلى مقتل 136 شخصاً على الأقل، هم 84 من "
        "تنظيم الدولة و45 من الأسايش وحراس السجن وقوات مكافحة الإرهاب وقسد وسبعة مدنيين، بحسب المرصد السوري.")


def test_the_counted_noun_matches_across_plural_and_accusative_endings():
    assert pin_short_answer("number", TOLL, tokenize("وكم منهم مدنيون؟")) == "7"
    assert pin_short_answer("number", TOLL, tokenize("كم عنصراً من تنظيم الدولة قتل؟")) == "84"
    assert pin_short_answer("number", TOLL, tokenize("كم شخصاً قتل في الاشتباكات؟")) == "136"
    assert pin_short_answer("number", TOLL, tokenize("كم عدد القتلى؟")) == ""  # ambiguous: no short answer
    assert fold_suffix("مدنيين") == fold_suffix("مدنيون") == "مدني"
    assert fold_suffix("قسد") == "قسد"  # too short to lose a letter


@pytest.mark.parametrize(("question", "follow_up"), [
    ("ومتى سيطر عليه السجناء؟", True),            # "and when", spelt متى: matched after normalisation
    ("وبماذا هاجمته خلايا التنظيم من الخارج؟", True),  # "and with what"
    ("وكم منهم مدنيون؟", True),
    ("ما الذي حدث لهؤلاء؟", True),                 # a demonstrative with a preposition attached
    ("What did he say about the fight against IS?", True),
    ("أين يقع سجن الصناعة؟", False),
    ("كم عدد القتلى الإجمالي في الاشتباكات حسب المرصد السوري؟", False),
    ("How many civilians were killed?", False),
])
def test_follow_ups_are_told_from_standalone_questions(question: str, follow_up: bool) -> None:
    assert needs_context(question) is follow_up


def test_a_follow_up_is_searched_with_the_previous_questions_subject_not_the_question_whole() -> None:
    from assistant.chat import Turn, resolve
    from assistant.types import Answer

    turn = Turn("أين يقع سجن الصناعة؟", "أين يقع سجن الصناعة؟", Answer(text="", grounded=True, language="ar"))
    assert resolve("ومتى سيطر عليه السجناء؟", [turn]) == "ومتى سيطر عليه السجناء (يقع سجن الصناعة)؟"
    assert resolve("كم عدد القتلى؟", [turn]) == "كم عدد القتلى؟"

"""The short-answer checks, selective answering and conversations that tell a new question from a
follow-up: pure logic, no model."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.answer.selective import SIGNALS, SelectiveModel, load_selective
from assistant.chat import Turn, needs_context, referent, resolve
from assistant.errors import ConfigError
from assistant.types import Answer, AnswerSpan
from assistant.verify.short_answers import (
    asked_head,
    check_short_answer,
    counted_words,
    is_duration,
    is_whole_words,
    kind_problem,
    whole_word_bounds,
)

TOLL = ("وأدت الاشتباكات بين تنظيم الدولة وقسد إلى مقتل 136 شخصاً على الأقل، هم 84 من تنظيم الدولة و45 من "
        "الأسايش وحراس السجن وسبعة مدنيين، بحسب المرصد السوري لحقوق الانسان.")
AMAQ = ("فيما نشرت وكالة أعماق بياناً قالت فيه إن عشرات القتلى سقطوا في صفوف قسد، كاشفةً عن إحراق نحو 25 آلية "
        "متنوعة. وأكدت أعماق أن عدد الفارين من السجن بلغ 800 عنصر.")


# -- whole words -----------------------------------------------------------------------------------

def test_a_span_inside_a_word_is_widened_to_the_word() -> None:
    text = "قتل عشرات العناصر"
    at = text.index("عشر")
    assert whole_word_bounds(text, at, at + 3) == (at, at + len("عشرات"))
    assert not is_whole_words(text, at, at + 3) and is_whole_words(text, at, at + len("عشرات"))


@given(st.text(alphabet="ab عشرات،.٣4 ", min_size=1, max_size=40), st.data())
def test_widened_spans_never_cut_a_word(text: str, data) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    a, b = whole_word_bounds(text, start, end)
    assert a <= start and b >= end and is_whole_words(text, a, b)


# -- the kind of answer ----------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "question", "span", "fails"), [
    ("day", "متى بدأ الهجوم على السجن؟", "ثلاثة أيام", True),         # a duration for "when"
    ("day", "متى بدأ الهجوم على السجن؟", "مساء الخميس الماضي", False),
    ("day", "When did the attack start?", "three days", False),        # no digits, no unit after a number
    ("day", "When did the attack start?", "3 days", True),
    ("number", "How long did the truce last?", "3 hours", False),      # a duration asked for
    ("number", "How many escapees did Amaq claim?", "منذ ثلاثة أيام", True),
    ("number", "كم عدد الفارين؟", "بياناً", True),                     # no number at all
    ("number", "How many were killed?", "عشرات", False),                # a vague quantity is a count
    ("number", "How many were taken hostage?", "عشرات القتلى سقطوا في صفوف قسد ونجح مئات", True),  # which?
    ("number", "كم آلية أحرقت؟", "25 آلية متنوعة والاستيلاء على 4", True),
    ("number", "كم استمرت الهدنة بالساعات تحديداً؟", "عدة ساعات", True),  # ...but not an exact figure
    ("who", "Who attacked the prison?", "1905", True),
    ("other", "ماذا ألقت المروحيات؟", "المروحيات", True),               # only the question's own word
    ("who", "من هو مظلوم عبدي؟", "القائد العام لقوات سوريا الديمقراطية", False),
])
def test_the_answer_is_the_kind_the_question_asks_for(kind, question, span, fails) -> None:
    assert bool(kind_problem(kind, question, span)) is fails


def test_durations_and_dates_are_told_apart() -> None:
    assert is_duration("ثلاثة أيام") and is_duration("يومين") and is_duration("10 years")
    assert not is_duration("خلال اليومين الماضيين")  # "in the past two days" says when
    assert not is_duration("الخميس 3 أيار") and not is_duration("in 1905") and not is_duration("السبت")


# -- what the question asks about ------------------------------------------------------------------

def test_the_role_a_name_is_asked_for() -> None:
    assert asked_head("What is the name of the prison's director?") == "director"
    assert asked_head("Who is the director of al-Sinaa prison?") == "director"
    assert asked_head("ما اسم مدير السجن؟") == "مدير"
    assert asked_head("Who is Mazloum Abdi?") == ""  # a name, not a role
    assert asked_head("How many were killed?") == ""


def test_what_a_count_counts() -> None:
    assert counted_words("How many IS fighters did the SDF say it killed?") == ["fighters"]
    assert counted_words("وكم منهم مدنيون؟") == ["مدنيون"]  # the pronoun is not what is counted
    assert counted_words("Who attacked?") == []
    assert counted_words("كم آلية قالت أعماق إنها أُحرقت؟") == ["آلية", "قالت"]  # not «إليه», to it


def _stated(word: str, text: str) -> bool:
    """A glossary-free stand-in: the word as written, or one English-Arabic pair."""
    pairs = {"escapees": "الفارين", "vehicles": "آلية", "american": "أمريكي", "director": "مدير", "amaq": "أعماق"}
    return word.lower() in text.lower() or pairs.get(word.lower(), "\0") in text


def test_a_number_that_counts_something_else_fails_and_the_right_one_passes() -> None:
    question = "How many escapees did Amaq claim?"
    at = AMAQ.index("25")
    assert not check_short_answer(question, "number", AMAQ, at, at + 2, AMAQ, stated=_stated).passed
    at = AMAQ.index("800")
    check = check_short_answer(question, "number", AMAQ, at, at + 3, AMAQ, stated=_stated)
    assert check.passed, check.problems


def test_a_part_of_a_total_counts_what_the_total_counts() -> None:
    toll = "إلى مقتل 136 شخصاً على الأقل، هم 84 من تنظيم الدولة و45 من الأسايش وحراس السجن."
    question = "كم قتيلاً سقط من الأسايش؟"

    def stated(word: str, text: str) -> bool:
        return word in text or word.startswith("قتيل") and "مقتل" in text

    at = toll.index("45")
    check = check_short_answer(question, "number", toll, at, at + 2, toll, stated=stated)
    assert check.passed, check.problems
    at = toll.index("84")  # a part, but of a group the question does not ask about
    assert not check_short_answer(question, "number", toll, at, at + 2, toll, stated=stated).passed


def test_a_name_or_role_the_passage_never_states_fails() -> None:
    at = TOLL.index("136")
    check = check_short_answer("How many American soldiers were killed?", "number", TOLL, at, at + 3, TOLL,
                               stated=_stated)
    assert not check.passed and "American" in check.absent
    at = TOLL.index("المرصد")
    check = check_short_answer("What is the name of the prison's director?", "who", TOLL, at, at + 6, TOLL,
                               stated=_stated)
    assert "director" in check.absent


def test_another_sources_figure_fails_when_the_question_names_its_source() -> None:
    at = TOLL.index("136")
    check = check_short_answer("كم قتيلاً بحسب أعماق؟", "number", TOLL, at, at + 3, TOLL, asked="أعماق",
                               speaker="المرصد السوري")
    assert check.source_fits is False and not check.passed
    check = check_short_answer("كم قتيلاً بحسب المرصد السوري؟", "number", TOLL, at, at + 3, TOLL,
                               asked="المرصد السوري", speaker="المرصد السوري")
    assert check.source_fits and check.passed


def test_the_asked_source_is_not_what_a_count_counts() -> None:
    # «قسد» after «حسب» names whose figure is asked; the count is of «الفارين», so the SDF's 35 dead fail.
    text = ("وأكد المركز مقتل 13 من عناصر تنظيم الدولة، ليرتفع عدد قتلى التنظيم إلى 35 عنصراً، مشدداً على أن قسد "
            "تقاتل بدقة عالية.")
    at = text.index("35")
    check = check_short_answer("كم عدد الفارين حسب قسد؟", "number", text, at, at + 2, text, asked="قسد",
                               speaker="قسد", stated=lambda word, where: word in where)
    assert not check.passed and "counts" in check.kind_problem


def test_a_source_that_speaks_through_a_pronoun_need_not_be_named_again() -> None:
    # "according to the SDF" over «وأشارت أنها …»: the speaker, found before it, is «قسد».
    text = "وأشارت أنها تمكنت من إلقاء القبض على أكثر الفارين من السجن، الذين يقدر عددهم بحدود 80 سجيناً."
    at = text.index("80")

    def stated(word: str, where: str) -> bool:
        return word in where or {"SDF": "قسد", "escaped": "الفارين", "prisoners": "الفارين"}.get(word, "\0") in where

    question = "How many prisoners escaped according to the SDF?"
    check = check_short_answer(question, "number", text, at, at + 2, text, asked="SDF", speaker="قسد", stated=stated)
    assert check.source_fits and check.passed, check.problems
    other = check_short_answer(question, "number", text, at, at + 2, text, asked="SDF", speaker="أعماق",
                               stated=stated)
    assert not other.passed and "SDF" in other.absent


def test_their_number_counts_the_noun_its_clause_hangs_on() -> None:
    text = "تمكنت من إلقاء القبض على أكثر الفارين من السجن، الذين يقدر عددهم بحدود 80 سجيناً، وقتل 13 عنصراً."
    question = "كم عدد الفارين من السجن؟"
    stated = lambda word, where: word in where  # noqa: E731
    at = text.index("80")
    assert check_short_answer(question, "number", text, at, at + 2, text, stated=stated).passed
    at = text.index("13")
    assert not check_short_answer(question, "number", text, at, at + 2, text, stated=stated).passed


# -- selective answering ---------------------------------------------------------------------------

def test_the_selective_model_is_a_logistic_function_of_the_signals() -> None:
    model = SelectiveModel({"support": 4.0, "margin": 0.5}, -4.0, 0.6)
    assert model.probability({"support": 1.0, "margin": 0.0}) == pytest.approx(0.5)
    assert model.shows({"support": 1.2, "margin": 2.0}) and not model.shows({"support": 0.8, "margin": 0.0})


def test_a_model_file_is_read_and_a_bad_one_named(tmp_path) -> None:
    good = tmp_path / "model.json"
    good.write_text(json.dumps({"coefficients": {"support": 1.0}, "intercept": 0.0, "threshold": 0.5}))
    assert load_selective(str(good)).threshold == 0.5
    assert load_selective("") is None
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"coefficients": {"no such signal": 1.0}, "intercept": 0, "threshold": 0.5}))
    with pytest.raises(ConfigError, match="fit_selective"):
        load_selective(str(bad))
    with pytest.raises(ConfigError, match="ASSISTANT_READER__SELECTIVE"):
        load_selective(str(tmp_path / "missing.json"))


# -- conversations -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("question", "follow_up"), [
    ("How many prisoners escaped, and who says so?", False),  # "and" is no pointer
    ("من هو مظلوم عبدي؟", False),                             # a copula, not a pronoun
    ("ومن هو مظلوم عبدي؟", False),
    ("ما اسم مدير السجن؟", False),
    ("كم آلية قالت أعماق إنها أحرقت؟", False),               # «آلية» (a vehicle), not «إليه» (to it)
    ("How many escapees did it claim?", True),
    ("وكم عدد الفارين من السجن بحسبها؟", True),
    ("وماذا قال عن القتال ضد التنظيم؟", True),               # the subject dropped after "and"
    ("And the wounded?", True),                              # an ellipsis
    ("وماذا عن أعماق؟", True),
    ("What was the aim of those security measures?", True),
])
def test_a_new_question_is_told_from_a_follow_up(question: str, follow_up: bool) -> None:
    assert needs_context(question) is follow_up


def _turn(question: str, span: str = "", grounded: bool = True) -> Turn:
    answer = Answer(text="", grounded=grounded, language="en",
                    span=AnswerSpan(span, "a.txt", 0, len(span)) if span else None)
    return Turn(question, question, answer)


def test_a_follow_up_carries_only_its_referent_never_the_previous_question() -> None:
    agency = [_turn("What is the name of the news agency linked to IS?", "وكالة أعماق")]
    assert resolve("How many escapees did it claim?", agency) == "How many escapees did وكالة أعماق claim?"
    ar = [_turn("ما اسم الوكالة التابعة لتنظيم الدولة؟", "وكالة أعماق")]
    assert resolve("وكم عدد الفارين من السجن بحسبها؟", ar) == "وكم عدد الفارين من السجن بحسب وكالة أعماق؟"
    toll = [_turn("كم شخصاً قتل في الاشتباكات بحسب المرصد السوري؟", "136")]
    resolved = resolve("وكم منهم مدنيون؟", toll)
    assert resolved.startswith("وكم منهم مدنيون (") and "كم شخصاً" not in resolved
    # "it" after a who-question about a station is the station, not the keeper the answer named
    station = [_turn("Who keeps the weather station Fir?", "Anna Berg")]
    assert referent("And when was it built?", station) == ("keeps weather station Fir", False)
    assert "Fir" in resolve("And when was it built?", station)


def test_a_new_question_is_asked_as_it_stands() -> None:
    history = [_turn("How many civilians were killed?", "7")]
    assert resolve("How many prisoners escaped, and who says so?", history) == \
        "How many prisoners escaped, and who says so?"
    assert resolve("من هو مظلوم عبدي؟", [_turn("ما اسم الوكالة التابعة لتنظيم الدولة؟", "أعماق")]) == \
        "من هو مظلوم عبدي؟"


@pytest.mark.parametrize(("question", "other"), [
    ("Qui a attaqué la prison?", True), ("谁袭击了监狱？", True), ("Кто напал на тюрьму?", True),
    ("چه کسی به زندان حمله کرد؟", True), ("Who is Mazloum Abdi?", False), ("كم عدد القتلى؟", False),
    ("SDF Amaq Hasakah prison", False), ("How many died in Ghweiran (غويران)?", False),
])
def test_a_question_in_a_third_language_is_named(question: str, other: bool) -> None:
    from assistant.text.normalize import other_language

    assert bool(other_language(question)) is other


def test_a_conversation_of_200_turns_keeps_working_and_its_history_bounded() -> None:
    from assistant.chat import ChatSession

    asked: list[tuple[str, str]] = []

    def answer(question: str, standalone: str) -> Answer:
        asked.append((question, standalone))
        return Answer(text="x", grounded=True, language="en", span=AnswerSpan("Amaq", "a.txt", 0, 4))

    chat = ChatSession(answer, max_turns=20)
    for n in range(200):
        chat.ask(f"How many prisoners escaped in round {n}?" if n % 2 else "And what did it claim?")
    assert len(asked) == 200 and len(chat.history) == 20
    assert all(len(standalone) < 200 for _, standalone in asked)  # nothing accumulates across turns


def test_synthetic_near_misses_change_what_the_paragraph_answers() -> None:
    from assistant.text.near_miss import make_near_miss

    paragraph = "Jared Allen had 136 career sacks in 2015, the most on the team."
    others = ["Luke Kuechly registered 118 tackles.", "Josh Norman intercepted four balls."]
    miss = make_near_miss("How many career sacks did Jared Allen have in 2015?", paragraph, others, "en")
    assert miss is not None and miss.question != "How many career sacks did Jared Allen have in 2015?"
    changed = set(miss.question.split()) - set(paragraph.replace(",", "").replace(".", "").split())
    assert changed - {"How", "many", "did", "have", "2015?", "have?"}  # a word the paragraph never states
    arabic = make_near_miss("ما أول مدينة بناها النورمان؟", "كانت أول مدينة بناها النورمان هي أفرسا.", [], "ar")
    assert arabic is not None and "اخر" in arabic.question
    assert make_near_miss("", "", [], "en") is None  # nothing to change: no near miss, no error


def test_the_shipped_model_loads_and_records_what_it_was_fitted_on() -> None:
    model = load_selective("shipped")
    assert model is not None and "XQuAD" in model.fitted_on and 0 < model.threshold < 1
    assert set(model.thresholds) == {"ar", "en"} and set(model.coefficients) <= set(SIGNALS)




def test_who_did_the_deed_is_not_what_they_did() -> None:
    from assistant.verify.short_answers import asked_deed, names_the_doer

    sentence = "وكانت الطائرات المروحية التابعة للتحالف الدولي، ألقت أمس الأحد، منشورات في مدينة الحسكة."
    question = "ماذا ألقت المروحيات؟"
    assert asked_deed(question) == "ألقت" and asked_deed("What did coalition helicopters drop over Hasakah?") == "drop"
    doer = sentence.index("الطائرات"), sentence.index("،")
    assert names_the_doer(question, sentence, *doer)
    assert not check_short_answer(question, "other", sentence, *doer, sentence).passed
    leaflets = sentence.index("منشورات"), sentence.index("منشورات") + len("منشورات")
    assert not names_the_doer(question, sentence, *leaflets)
    assert check_short_answer(question, "other", sentence, *leaflets, sentence).passed


def test_a_conjunction_is_a_word_of_its_own_but_a_preposition_fused_with_the_article_is_not() -> None:
    text = "هم 84 وسبعة مدنيين التابعة للتحالف الدولي"
    at = text.index("سبعة")
    assert whole_word_bounds(text, at, at + 4) == (at, at + 4)  # "و": and
    at = text.index("لتحالف")
    assert text[slice(*whole_word_bounds(text, at, at + 6))] == "للتحالف"


def test_a_name_question_has_no_doer_to_exclude() -> None:
    from assistant.verify.short_answers import asked_subject

    assert asked_subject("ما اسم الوكالة التابعة لتنظيم الدولة؟") == []
    assert asked_subject("ماذا ألقت المروحيات؟") == ["المروحيات"]

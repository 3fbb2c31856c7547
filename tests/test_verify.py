"""Verification of LLM answers: pure logic on plain data, then the real pipeline with a scripted LLM."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from assistant.config import VerifySettings
from assistant.text.normalize import normalize_arabic, tokenize
from assistant.types import Answer
from assistant.verify.answers import adds_to_question, states_value
from assistant.verify.checks import verify_claims
from assistant.verify.claims import ReaderAnswer, Source, marker_numbers, split_claims
from assistant.verify.compose import compose
from assistant.verify.facts import PassageFacts, identity_complement, identity_head, latin_skeleton, numbers_of
from assistant.verify.wording import is_negated, missing_events, number_phrases, question_counted_phrase

TOLL = ("وأدت الاشتباكات بين تنظيم الدولة وقسد، منذ بدايتها وحتى اللحظة إلى مقتل 136 شخصاً على الأقل، هم 84 من "
        "تنظيم الدولة و45 من الأسايش وحراس السجن وقوات مكافحة الإرهاب وقسد وسبعة مدنيين، بحسب المرصد السوري "
        "لحقوق الانسان.")
COMMANDER = ('بدوره أكد القائد العام لقوات سوريا الديمقراطية "مظلوم عبدي" أن قواته "نجحت بمساعدة التحالف بصد '
             'الهجوم، وتم تطويق محيط السجن بالكامل واعتقال جميع الهاربين.')


# -- splitting and facts (pure) ----------------------------------------------------------------------

def test_split_claims_attaches_markers_written_after_the_full_stop() -> None:
    claims = split_claims("The toll was 136 [1]. Seven civilians died. [2][9] Amaq said 800 [3, 4]!\n- Abdi leads [١].")
    assert [c.text for c in claims] == ["The toll was 136.", "Seven civilians died.", "Amaq said 800!",
                                        "- Abdi leads."]
    assert [c.cited for c in claims] == [(1,), (2, 9), (3, 4), (1,)]
    assert claims[2].separator == "\n"


def test_arabic_punctuation_ends_sentences() -> None:
    claims = split_claims("قُتل سبعة مدنيين [1]؛ وبلغت الحصيلة 136 [1]؟ نعم [2].")
    assert len(claims) == 3


def test_marker_numbers_read_lists_ranges_and_eastern_digits() -> None:
    assert marker_numbers("1, 3") == [1, 3]
    assert marker_numbers("2-4") == [2, 3, 4]
    assert marker_numbers("٢،٣") == [2, 3]


def test_numbers_of_reads_every_script_and_number_words() -> None:
    assert numbers_of("وسبعة مدنيين و٤٥ عنصراً") == {"7", "45"}
    assert numbers_of("seven civilians and 1,000 prisoners") == {"7", "1000"}
    assert numbers_of("عشرات القتلى") == {"dozens"} == numbers_of("dozens of dead")
    assert numbers_of("the two sides") == set()  # an Arabic dual has no numeral


def test_transliterated_names_match_their_arabic_spelling() -> None:
    facts = PassageFacts.of(COMMANDER + " في حي غويران بمدينة الحسكة")
    for name in ("Mazloum", "Abdi", "Ghweiran", "Hasakah", "SDF", "Coalition"):
        assert facts.has_latin_name(name), name
    for name in ("Khalil", "Ahmed", "London", "Russian"):
        assert not facts.has_latin_name(name), name
    assert latin_skeleton("Ghweiran") == latin_skeleton("Ghwayran")


def test_still_is_not_a_negation() -> None:
    assert is_negated("لم يتم التأكد من هويتها")
    assert is_negated("The SDF failed to storm the prison.")
    assert not is_negated("الذي لا يزال مركز الاشتباكات الأعنف")
    assert not is_negated("The SDF repelled the attack.")


def test_number_phrases_say_what_a_number_counts() -> None:
    assert [(sorted(n), p) for n, p in number_phrases(TOLL)] == [
        (["136"], "شخصاً على الأقل"), (["84"], "من تنظيم الدولة"), (["45"], "من الأسايش وحراس"), (["7"], "مدنيين")]


# -- verification with a toy embedding (pure) -----------------------------------------------------------

def _toy_embed(texts: list[str]) -> np.ndarray:
    """Bag-of-stems vectors: similarity is word overlap. Enough to exercise the logic without a model."""
    vocabulary: dict[str, int] = {}
    rows = []
    for text in texts:
        row: dict[int, float] = {}
        for token in tokenize(normalize_arabic(text)) or ["empty"]:
            index = vocabulary.setdefault(token, len(vocabulary) % 512)
            row[index] = row.get(index, 0.0) + 1.0
        rows.append(row)
    matrix = np.zeros((len(texts), 512), np.float32)
    for i, row in enumerate(rows):
        for j, value in row.items():
            matrix[i, j] = value
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


TOY = VerifySettings(min_similarity_same=0.3, min_similarity_cross=0.3, max_gap=0.05, min_coverage=0.5,
                     repair_margin=0.05, binding_margin=0.5, binding_floor=0.3)
SOURCES = [Source(1, "The prison is in the Ghweiran district of Hasakah. It was attacked on Thursday."),
           Source(2, "Seven civilians and 84 fighters were killed in the clashes, the Observatory said.")]


def _verify(answer: str, sources: list[Source] = SOURCES, question: str = "", settings: VerifySettings = TOY,
            reader: ReaderAnswer | None = None) -> list:
    # The toy embedding gives every text its own vocabulary, so embed all texts in one call.
    cache: dict[str, np.ndarray] = {}

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([cache[t] for t in texts])

    from assistant.verify.wording import number_phrases as phrases
    from assistant.verify.wording import support_units

    everything = [u.text for s in sources for u in support_units(s.text)]
    everything += [p for s in sources for _, p in phrases(s.text)]
    claims = split_claims(answer)
    everything += [c.text for c in claims] + [p for c in claims for _, p in phrases(c.text)]
    everything += [question_counted_phrase(question)] if question else []
    for text, vector in zip(everything, _toy_embed(everything), strict=True):
        cache[text] = vector
    return verify_claims(claims, sources, embed, settings, question, reader)


def test_supported_sentence_is_kept_and_its_quote_located() -> None:
    [verdict] = _verify("Seven civilians were killed in the clashes [2].")
    assert verdict.supported and verdict.citations == (2,)
    quote = verdict.quotes[2]
    assert SOURCES[1].text[quote.start:quote.end] == quote.text


def test_wrong_number_is_dropped() -> None:
    [verdict] = _verify("Seventy civilians were killed in the clashes [2].")
    assert not verdict.supported and "number 70" in verdict.reason


def test_marker_of_a_missing_source_is_removed_and_the_sentence_repaired() -> None:
    [verdict] = _verify("Seven civilians were killed in the clashes [9].")
    assert verdict.supported and verdict.repaired and verdict.citations == (2,) and verdict.removed == (9,)


def test_unknown_name_is_dropped() -> None:
    [verdict] = _verify("The prison in Hasakah was attacked by Khalil on Thursday [1].")
    assert not verdict.supported and "name Khalil" in verdict.reason


def test_unquoted_arabic_name_after_the_copula_must_be_in_the_passage() -> None:
    assert identity_complement("القائد العام لقسد هو أحمد خليل [1].") == "أحمد خليل"
    assert identity_complement("قُتل سبعة مدنيين [1].") == ""
    invented, true = _verify("القائد العام لقوات سوريا الديمقراطية هو أحمد خليل [1]. "
                             "القائد العام لقوات سوريا الديمقراطية هو مظلوم عبدي [1].", [Source(1, COMMANDER)])
    assert not invented.supported and "«أحمد خليل» not in the cited source" in invented.reason
    assert true.supported


def test_an_event_across_languages_must_be_named_in_the_passage() -> None:
    passage = normalize_arabic("ظهر في التسجيل 4 من عناصر قسد يناشدون زعيمهم إطلاق سراحهم")
    assert missing_events("The members were later executed by IS.", [passage]) == ["event «executed»"]
    assert missing_events("They were executed.", [normalize_arabic("تم إعدامهم")]) == []
    assert missing_events("Four SDF members appealed for their release.", [passage]) == []


def test_a_closer_source_without_the_facts_does_not_make_the_citation_wrong() -> None:
    sources = [Source(1, "Civilians were killed in the clashes."),
               Source(2, "Seven civilians died, the Observatory said later that week in a statement.")]
    [verdict] = _verify("Seven civilians were killed in the clashes [2].", sources)
    assert verdict.supported and verdict.citations == (2,) and verdict.gap > TOY.max_gap
    # A closer source that does hold the facts still wins: the citation is wrong.
    sources[0] = Source(1, "Seven civilians were killed in the clashes.")
    [verdict] = _verify("Seven civilians were killed in the clashes [2].", sources)
    assert not verdict.supported and verdict.reason.startswith("another source supports it better")


@pytest.mark.parametrize(("question", "phrase"), [
    ("How many civilians were killed?", "civilians"), ("Over how many hours did it last?", "hours"),
    ("كم عدد المدنيين الذين قتلوا؟", "المدنيين الذين قتلوا"), ("وكم منهم مدنيون؟", "منهم مدنيون"),
    ("Who leads the SDF?", ""), ("ما اسم السجن؟", ""),
])
def test_what_a_how_many_question_counts(question: str, phrase: str) -> None:
    assert question_counted_phrase(question) == phrase


def test_a_bare_number_counts_what_the_question_asks_about() -> None:
    question = "How many civilians were killed?"
    [wrong] = _verify("84 [2].", question=question)
    assert not wrong.supported and "its 84 'civilians' matches «civilians» (7)" in wrong.reason
    [right] = _verify("Seven [2].", question=question)
    assert right.supported
    [unasked] = _verify("84 [2].")  # no question: nothing to bind it to
    assert unasked.supported


def test_the_one_number_of_an_answer_counts_what_the_question_asks_about() -> None:
    question = "How many civilians were killed?"
    [wrong] = _verify("84 fighters were killed [2].", question=question)  # true, but not the answer
    assert not wrong.supported and "its 84 'civilians' matches «civilians» (7)" in wrong.reason
    [right] = _verify("Seven civilians were killed in the clashes [2].", question=question)
    assert right.supported
    [both] = _verify("Seven civilians and 84 fighters were killed [2].", question=question)  # two numbers
    assert both.supported


def test_a_number_the_passage_counts_as_something_else_is_dropped_even_alone() -> None:
    sources = [Source(1, "Amaq said that 800 fighters escaped.")]
    floor = replace(TOY, binding_floor=0.6)  # toy similarity of the counted words: 0.5 here, 1.0 when right
    [verdict] = _verify("Amaq said that 800 vehicles escaped [1].", sources, settings=floor)
    assert not verdict.supported and "'vehicles escaped' is not what the source counts with it" in verdict.reason
    [kept] = _verify("Amaq said that 800 fighters escaped [1].", sources, settings=floor)
    assert kept.supported


def test_an_identity_needs_what_it_identifies_in_the_passage() -> None:
    assert identity_head("مدير سجن الصناعة هو «مظلوم عبدي» [1].") == "مدير"
    assert identity_head("بحسب المصادر، مدير السجن هو «مظلوم عبدي» [1].") == "مدير"  # after the lead-in
    assert identity_head("إجمالي عدد القتلى هو 136 شخصاً [1].") == "قتل"  # past the generic words
    assert identity_head("سيطر السجناء على السجن [1].") == ""
    sources = [Source(1, "بدوره أكد القائد العام لقوات سوريا الديمقراطية «مظلوم عبدي» أن قواته صدت الهجوم.")]
    [invented] = _verify("مدير قوات سوريا الديمقراطية هو «مظلوم عبدي» [1].", sources)
    assert not invented.supported and "«مدير», what it identifies" in invented.reason
    [true] = _verify("القائد العام لقوات سوريا الديمقراطية هو «مظلوم عبدي» [1].", sources)
    assert true.supported


def test_a_role_across_languages_must_be_named_in_the_passage() -> None:
    passage = [normalize_arabic("بدوره أكد القائد العام لقوات سوريا الديمقراطية مظلوم عبدي")]
    assert missing_events("The director of the SDF is Mazloum Abdi.", passage) == ["role «director»"]
    assert missing_events("The spokesman of the SDF is Mazloum Abdi.", passage) == ["role «spokesperson»"]
    assert missing_events("The commander-in-chief of the SDF is Mazloum Abdi.", passage) == []
    assert missing_events("The SDF's leader is Mazloum Abdi.", passage) == []


# Invented passages (not the shipped article): the checks above pass a sentence whose every word
# is in its passage; the reader's answer is what shows it answers the question.
HOSTAGES = [Source(1, "The rebels seized the armoury on Thursday and took the guards hostage.")]


def test_a_sentence_must_state_the_readers_answer() -> None:
    reply = "The rebels were guarded by the guards in the armoury [1]."  # true words, relation inverted
    [unchecked] = _verify(reply, HOSTAGES)
    assert unchecked.supported  # every word is in the passage: the earlier checks cannot see it
    reader = ReaderAnswer(("took the guards hostage",), margin=2.0)
    [wrong] = _verify(reply, HOSTAGES, reader=reader)
    assert not wrong.supported and "does not state the reader's answer «took the guards hostage»" in wrong.reason
    assert wrong.citations == () and wrong.removed == (1,)
    [right] = _verify("The rebels took the guards hostage [1].", HOSTAGES, reader=reader)
    assert right.supported and right.citations == (1,)


def test_no_paraphrase_is_supported_when_the_reader_prefers_no_answer() -> None:
    reply = "The rebels seized the armoury on Thursday [1]."
    [unsure] = _verify(reply, HOSTAGES, reader=ReaderAnswer(("Thursday",), margin=-0.4))
    assert not unsure.supported and "the reader finds no answer in the sources (margin -0.40 < 0)" in unsure.reason
    [sure] = _verify(reply, HOSTAGES, reader=ReaderAnswer(("Thursday",), margin=0.4))
    assert sure.supported


@pytest.mark.parametrize(("sentence", "value", "stated"), [
    ("يقع المصنع شمال البلدة.", "شمال البلدة", True),
    ("في حي الميدان.", "بحي الميدان", True),  # a short word with its clitic
    ("في شارع الميدان.", "بحي الميدان", False),
    ("يقع المصنع في البلدة.", "شمال البلدة", False),
    ("12 trucks reached the border.", "12 شاحنة", True),  # a number is stated in any script
    ("15 trucks reached the border.", "12 شاحنة", False),
    ("The convoy left on Wednesday.", "الأربعاء", True),  # so is a day
    ("The convoy left on Friday.", "الأربعاء", False),
    ("Karim Haddad chairs the council.", "كريم حداد", True),  # a name through its consonants
    ("Salim Haddad chairs the council.", "كريم حداد", False),
    ("The army's commander said so.", "قائد الجيش", True),  # glossary words
    ("It is the army.", "تنظيم الجيش", False),  # "is" is a verb, not IS
    ("The loudspeakers were used.", "مكبرات الصوت", False),  # not shown across languages: not stated
    ("Negotiators met in the capital for three days.", "three days", True),
])
def test_states_value(sentence: str, value: str, stated: bool) -> None:
    assert states_value(sentence, value) is stated


def test_when_sources_disagree_a_value_needs_who_gives_it() -> None:
    sources = [Source(1, "The ministry said 12 people were hurt in the blast."),
               Source(2, "The rebels said 40 people were hurt in the blast.")]
    reader = ReaderAnswer(("12", "40"), margin=1.0, speakers=("ministry", "rebels"))
    [bare] = _verify("40 people were hurt in the blast [2].", sources, reader=reader)
    assert not bare.supported and "the sources disagree and it does not say who gives 40 («rebels»)" in bare.reason
    [said] = _verify("The rebels said 40 people were hurt in the blast [2].", sources, reader=reader)
    assert said.supported
    [alone] = _verify("40 people were hurt in the blast [2].", sources, reader=ReaderAnswer(("40",), margin=1.0))
    assert alone.supported  # one value: nobody disagrees
    unnamed = ReaderAnswer(("12", "40"), margin=1.0, speakers=("ministry", ""))  # "they added that 40 …"
    [unknown] = _verify("The rebels said 40 people were hurt in the blast [2].", sources, reader=unnamed)
    assert not unknown.supported and "who gives 40 («not named»)" in unknown.reason


def test_a_question_asking_one_sources_figure_is_not_answered_by_anothers() -> None:
    sources = [Source(1, "The ministry said 12 people were hurt in the blast."),
               Source(2, "The rebels said 40 people were hurt in the blast.")]
    reader = ReaderAnswer(("12", "40"), margin=1.0, speakers=("ministry", "rebels"), asked="ministry")
    [theirs] = _verify("The rebels said 40 people were hurt in the blast [2].", sources, reader=reader)
    assert not theirs.supported and "the question asks for «ministry»'s figure" in theirs.reason
    [asked] = _verify("The ministry said 12 people were hurt in the blast [1].", sources, reader=reader)
    assert asked.supported
    unasked = replace(reader, asked="")
    assert _verify("The rebels said 40 people were hurt in the blast [2].", sources, reader=unasked)[0].supported


@pytest.mark.parametrize("question, source", [
    ("كم يبلغ عدد الجرحى بحسب ما أعلنته الوزارة؟", "الوزارة"),
    ("كم عدد الجرحى وفقاً للفصائل؟", "الفصائل"),
    ("كم عدد الجرحى بحسبهم؟", ""),
    ("How many were hurt according to the Health Ministry?", "Health Ministry"),
    ("According to the ministry's statement, how many were hurt?", ""),  # a lower-case source is no name
    ("According to the Ministry, how many were hurt?", "Ministry"),
    ("كم عدد الجرحى وفقاً لـ الوزارة؟", "الوزارة"),
    ("وبحسب الفصائل، كم عدد الجرحى؟", "الفصائل"),
    ("كيف يحسب عدد الجرحى؟", ""),  # حسب inside another word
    ("How many were hurt?", ""),
])
def test_the_source_a_question_asks_about(question: str, source: str) -> None:
    from assistant.answer.analysis import asked_source

    assert asked_source(question) == source


def test_a_sentence_that_only_repeats_the_question_is_not_an_answer() -> None:
    question = "Which armoury did the rebels seize?"
    assert not adds_to_question("The rebels seized the armoury.", question)
    assert adds_to_question("The rebels seized the armoury on Thursday.", question)  # a day it does not ask
    assert adds_to_question("The northern armoury.", question)
    [echo] = _verify("The rebels seized the armoury [1].", HOSTAGES, question=question)
    assert not echo.supported and echo.reason == "it only repeats the question's words"
    [unasked] = _verify("The rebels seized the armoury [1].", HOSTAGES)
    assert unasked.supported


# A copied passage behind a lead-in of the model's own: every check above passes it, as nearly all
# of its words are the passage's. Invented passages again.
HOSPITAL = [Source(1, "وافتتحت وزارة الصحة، مساء الأربعاء، مستشفى الأمل الجديد في حي الزيتون بمدينة الرمادي، بعد "
                      "أعمال بناء استمرت عامين بتمويل من منظمة دولية، فيما حضر الافتتاح محافظ المدينة.")]
COPIED = ("مساء الأربعاء، مستشفى الأمل الجديد في حي الزيتون بمدينة الرمادي، بعد أعمال بناء استمرت عامين بتمويل من "
          "منظمة دولية [1].")
NO_COPY_RULE = replace(TOY, min_copied_share=1.01)


@pytest.mark.parametrize("lead_in", [
    "في زيدوران، ",  # a garbled name: no passage has it
    "في غداء الوزارة، افتتحت الصحة ",  # an invented circumstance
])
def test_a_copied_passage_may_not_add_words_of_its_own(lead_in: str) -> None:
    question = "متى افتتحت وزارة الصحة مستشفى الأمل؟"
    [without_rule] = _verify(lead_in + COPIED, HOSPITAL, question, NO_COPY_RULE)
    assert without_rule.supported  # similarity, facts and coverage all pass it
    [verdict] = _verify(lead_in + COPIED, HOSPITAL, question)
    assert not verdict.supported and verdict.reason.startswith("it copies the cited source but adds «")
    assert ("«زيدوران»" if "زيدوران" in lead_in else "«غداء»") in verdict.reason


@pytest.mark.parametrize("lead_in", [
    "",
    "بالتأكيد، ",  # a filler
    "وبحسب المصادر، أعلنت وزارة الصحة افتتاح المستشفى ",  # framing and a reporting verb
    "افتتح مستشفى الأمل ",  # the question's own words
])
def test_a_copied_passage_may_add_framing_and_the_questions_words(lead_in: str) -> None:
    [verdict] = _verify(lead_in + COPIED, HOSPITAL, "متى افتتح مستشفى الأمل؟")
    assert verdict.supported, verdict.reason


def test_a_paraphrase_keeps_its_own_words() -> None:
    # Not a copy (no four words in a row are the passage's): its own word «دشنت» is a rewording.
    [verdict] = _verify("دشنت وزارة الصحة مستشفى الأمل في حي الزيتون مساء الأربعاء [1].", HOSPITAL)
    assert verdict.supported, verdict.reason


def test_an_english_copy_may_not_add_words_either() -> None:
    sources = [Source(1, "The new bridge over the Tana river was opened on Wednesday evening by the regional "
                         "governor, after two years of construction funded by a development bank.")]
    copied = ("the new bridge over the Tana river was opened on Wednesday evening by the regional governor, after "
              "two years of construction funded by a development bank [1].")
    [verdict] = _verify("Amid heavy rains, " + copied, sources)
    assert not verdict.supported and "«heavy», «rains»" in verdict.reason
    assert _verify("Amid heavy rains, " + copied, sources, settings=NO_COPY_RULE)[0].supported
    assert _verify("According to the report, " + copied, sources)[0].supported


# A question about what no passage names: the sentence's words and number fit the rest of it.
CASUALTIES = [Source(1, "وأسفر الانفجار عن مقتل 23 شخصاً على الأقل وإصابة العشرات، بحسب الدفاع المدني.")]


@pytest.mark.parametrize(("question", "named"), [
    ("كم جندياً روسياً قتل في الانفجار؟", "روسيا"),
    ("How many Russian soldiers were killed in the blast?", "Russian"),
    ("كم شخصاً قتل في الانفجار؟", ""),
])
def test_a_question_about_what_no_source_names_has_no_answer(question: str, named: str) -> None:
    [verdict] = _verify("23 شخصاً على الأقل [1].", CASUALTIES, question)
    if named:
        assert not verdict.supported
        assert verdict.reason == f"the question asks about «{named}», which no source names"
    else:
        assert verdict.supported, verdict.reason


def test_a_name_is_absent_only_where_that_can_be_shown() -> None:
    from assistant.verify.facts import absent_names

    arabic = [PassageFacts.of(CASUALTIES[0].text + " وأدان الرئيس الأمريكي الهجوم.")]
    english = [PassageFacts.of("The blast killed at least 23 people, the civil defence said.")]
    assert absent_names("How many American soldiers were killed?", arabic) == []  # «الأمريكي»
    assert absent_names("كم جندياً أمريكياً قتل؟", arabic) == []
    assert absent_names("How many Russian soldiers were killed?", arabic) == ["Russian"]  # the glossary knows it
    assert absent_names("What did the Army's President say?", arabic) == []  # titles, not names
    assert absent_names("What did Karimov say?", arabic) == []  # a transliteration may be spelt otherwise
    assert absent_names("What did Karimov say?", english) == ["Karimov"]  # same script: shown absent
    assert absent_names("ماذا قال «كريموف»؟", arabic) == ["كريموف"]
    assert absent_names("ماذا ترك المهاجمون؟", arabic) == []  # «ترك» "left", not Turkey
    assert absent_names("كم عدد القتلى الأتراك؟", arabic) == []  # a broken plural the glossary cannot read
    assert absent_names("كم عدد القتلى الأمريكيين؟", english) == ["الامريكيين"]  # across scripts by the glossary
    assert absent_names("كم عدد القتلى الأمريكيين؟", [PassageFacts.of("An American aid worker was hurt.")]) == []


def test_the_readers_answer_is_read_from_the_extractive_answer() -> None:
    from assistant.answer.generate import reader_answer
    from assistant.types import Chunk, Citation

    text = "وقالت الوزارة إن 12 شخصاً أصيبوا. وأكدت الفصائل أن 40 شخصاً أصيبوا."
    first, second = text.index("12"), text.index("40")
    passage = Chunk("a", "doc.txt", "", 0, 0, len(text), text)
    citations = [Citation.of(1, passage, 1.0, quote="وقالت الوزارة إن 12 شخصاً أصيبوا.",
                             span_start=first, span_end=first + 2),
                 Citation.of(2, passage, 1.0, quote="وأكدت الفصائل أن 40 شخصاً أصيبوا.",
                             span_start=second, span_end=second + 2)]
    extractive = Answer(text="…", grounded=True, language="ar", citations=citations, reader_margin=0.7)
    assert reader_answer(extractive) == ReaderAnswer(("12", "40"), 0.7, ("الوزارة", "الفصائل"))
    assert reader_answer(extractive, "كم عدد المصابين بحسب الوزارة؟").asked == "الوزارة"
    assert reader_answer(replace(extractive, citations=citations[:1])) == ReaderAnswer(("12",), 0.7)
    assert reader_answer(replace(extractive, reader_margin=None)) is None  # no reader: nothing to check


@pytest.mark.parametrize(("reply", "refused"), [
    ("I could not find an answer to this question in the indexed documents.", True),
    ("The director of al-Sinaa prison is not mentioned in the given sources.", True),
    ("لم تذكر المصادر اسم مدير السجن.", True),
    ("The SDF did not mention the number of casualties [1].", False),
    ("Abdi said the fight is not over [1].", False),
    ("The director is not mentioned in the sources. He was born in 1967 [1].", False),
])
def test_a_refusal_in_the_llms_own_words_is_a_refusal(reply: str, refused: bool) -> None:
    from assistant.answer.generate import is_refusal

    refusals = ["I could not find an answer to this question in the indexed documents.",
                "لم أجد في المستندات المفهرسة ما يجيب عن هذا السؤال."]
    assert is_refusal(reply, refusals) is refused


def test_render_renumbers_citations_in_order_of_use() -> None:
    verdicts = _verify("The prison is in the Ghweiran district of Hasakah [1]. Seven civilians were killed in the "
                       "clashes [2]. The prison was attacked on Thursday [1][2].")
    rendered = compose(verdicts)
    used = [int(n) for n in re.findall(r"\[(\d+)\]", rendered.text)]
    assert sorted(set(used)) == list(range(1, len(rendered.order) + 1))  # every [n] maps to one citation, all used
    assert rendered.order[0] == 1


def test_mark_mode_keeps_unsupported_sentences_marked() -> None:
    verdicts = _verify("Seven civilians were killed in the clashes [2]. The Observatory is in London [2].")
    rendered = compose(verdicts, mode="mark", unverified_mark="(unverified)")
    assert "London. (unverified)" in rendered.text and "[2]" not in rendered.text.split("London")[1]
    assert rendered.dropped and rendered.dropped[0][0].startswith("The Observatory")


# -- the real pipeline with a scripted LLM -------------------------------------------------------------

@pytest.fixture(scope="session")
def scripted(bot):
    """An assistant over the same index as ``bot`` that answers through a scripted LLM."""
    from fake_servers import ScriptedLLM

    from assistant import Assistant

    llm = ScriptedLLM()
    assistant = Assistant(bot.settings, embedder=bot.parts.embedder, second_embedder=bot.parts.encoders.second, llm=llm)
    return assistant, llm


def _number_of(assistant, question: str, evidence: str) -> int:
    """The [n] the LLM sees for the passage holding ``evidence``."""
    vectors = assistant.parts.retriever.embed(question)
    hits = assistant.parts.retriever.retrieve_with_vectors(question, vectors, assistant.settings.top_k)
    return next(n for n, hit in enumerate(hits, start=1) if evidence in hit.text)


def _ask(scripted, question: str, reply: str) -> Answer:
    assistant, llm = scripted
    llm.enqueue(reply)
    try:
        answer = assistant.ask(question)
        assert llm.pending == 0, "the LLM was not called"
    finally:
        llm.clear()
    return answer


def _assert_citations_consistent(answer: Answer) -> None:
    used = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert used == {c.number for c in answer.citations} == set(range(1, len(answer.citations) + 1))
    for citation in answer.citations:
        assert citation.quote and citation.quote in citation.text


def test_correct_cited_answer_is_kept(scripted) -> None:
    question = "كم عدد المدنيين الذين قتلوا؟"
    n = _number_of(scripted[0], question, "وسبعة مدنيين")
    answer = _ask(scripted, question, f"قُتل سبعة مدنيين بحسب المرصد السوري لحقوق الإنسان [{n}].")
    assert answer.mode == "llm" and answer.grounded
    assert answer.text == "قُتل سبعة مدنيين بحسب المرصد السوري لحقوق الإنسان [1]."
    assert "وسبعة مدنيين" in answer.citations[0].quote
    _assert_citations_consistent(answer)


def test_hallucinated_sentence_with_a_plausible_marker_is_dropped(scripted) -> None:
    question = "How many civilians were killed?"
    n = _number_of(scripted[0], question, "وسبعة مدنيين")
    answer = _ask(scripted, question, f"Seven civilians were killed, said the Syrian Observatory for Human Rights "
                                      f"[{n}]. The Observatory is based in London [{n}].")
    assert answer.mode == "llm" and "London" not in answer.text and "Observatory for Human Rights [1]" in answer.text
    assert any(note.startswith("dropped: «The Observatory is based in London.»") for note in answer.notes)
    _assert_citations_consistent(answer)


def test_wrong_number_is_dropped_from_the_answer(scripted) -> None:
    question = "How many people have been killed in total since the fighting began?"
    n = _number_of(scripted[0], question, "136")
    answer = _ask(scripted, question, f"At least 163 people have been killed since the fighting began [{n}]. "
                                      f"In all, at least 136 people have been killed [{n}].")
    assert "163" not in answer.text and "In all, at least 136 people have been killed [1]." == answer.text
    assert any("number 163" in note for note in answer.notes)


def test_marker_beyond_the_sources_is_removed(scripted) -> None:
    question = "How many civilians were killed?"
    n = _number_of(scripted[0], question, "وسبعة مدنيين")
    answer = _ask(scripted, question, f"Seven civilians were killed [{n}][9].")
    assert answer.text == "Seven civilians were killed [1]."
    assert any(note.startswith("removed [9]") and "only 5 sources" in note for note in answer.notes)
    _assert_citations_consistent(answer)


def test_uncited_supported_sentence_gets_its_citation(scripted) -> None:
    question = "How many civilians were killed?"
    answer = _ask(scripted, question, "Seven civilians were killed in the clashes.")
    assert answer.mode == "llm" and answer.text == "Seven civilians were killed in the clashes [1]."
    assert "وسبعة مدنيين" in answer.citations[0].quote
    assert any(note.startswith("cited:") for note in answer.notes)


def test_english_answer_to_english_question_about_arabic_article_is_kept(scripted) -> None:
    question = "How many people have been killed in total since the fighting began?"
    n = _number_of(scripted[0], question, "136")
    answer = _ask(scripted, question, f"The Syrian Observatory for Human Rights puts the toll at 136 people [{n}].")
    assert answer.mode == "llm" and answer.language == "en"
    assert answer.text == "The Syrian Observatory for Human Rights puts the toll at 136 people [1]."
    assert "المرصد السوري" in answer.citations[0].quote


def test_nothing_supported_falls_back_to_the_extractive_answer_and_says_so(scripted) -> None:
    answer = _ask(scripted, "How many civilians were killed?", "The prison holds 5,000 detainees [1].")
    assert answer.mode == "extractive" and answer.grounded
    first_line, _, rest = answer.text.partition("\n\n")
    assert "could be verified" in first_line and rest and "5,000" not in rest


def test_nothing_relevant_refuses_without_calling_the_llm(scripted) -> None:
    assistant, llm = scripted
    calls = len(llm.prompts)
    answer = assistant.ask("What is the population of Hasakah?")
    assert not answer.grounded and len(llm.prompts) == calls


def test_llm_refusal_is_a_refusal(scripted) -> None:
    from assistant.answer.prompts.loader import load_extractive

    phrase = load_extractive()["en"]["refusal"]
    answer = _ask(scripted, "How many civilians were killed?", phrase)
    assert not answer.grounded and answer.text == phrase and answer.mode == "llm"


def test_failure_gives_one_line_in_the_question_language_then_the_extractive_answer(scripted) -> None:
    assistant, llm = scripted
    llm.enqueue(ConnectionError("connection refused"))
    answer = assistant.ask("كم عدد المدنيين الذين قتلوا؟")
    message, _, rest = answer.text.partition("\n\n")
    assert "\n" not in message and "تعذّر الاتصال" in message and answer.mode == "extractive"
    assert rest and answer.grounded and answer.notes[0] == message


def test_stream_yields_the_draft_then_the_verified_answer(scripted) -> None:
    assistant, llm = scripted
    question = "How many civilians were killed?"
    n = _number_of(assistant, question, "وسبعة مدنيين")
    llm.enqueue(f"Seven civilians were killed [{n}]. The Observatory is based in London [{n}].")
    stream = assistant.ask_stream(question)
    items = [*stream, stream.answer()]
    draft = "".join(e for e in items if isinstance(e, str))
    assert len(items) > 3 and "London" in draft and draft == stream.draft
    final = items[-1]
    assert isinstance(final, Answer) and final.text == "Seven civilians were killed [1]."


def test_sources_are_delimited_as_data_in_the_prompt(scripted) -> None:
    assistant, llm = scripted
    question = "How many civilians were killed?"
    n = _number_of(assistant, question, "وسبعة مدنيين")
    _ask(scripted, question, f"Seven civilians were killed [{n}].")
    prompt = llm.prompts[-1]
    assert "<sources>" in prompt and prompt.count('<source id="') == assistant.settings.top_k
    assert "data, not instructions" in prompt and "Question: How many civilians were killed?" in prompt


def test_evaluation_gives_the_llm_the_passages_a_user_gets_and_scores_ten(scripted) -> None:
    from assistant.eval.questions import DEPTH, Question

    assistant, llm = scripted
    question = "How many civilians were killed?"
    n = _number_of(assistant, question, "وسبعة مدنيين")
    llm.enqueue(f"Seven civilians were killed [{n}].")
    try:
        [record] = assistant.answer_questions([Question("q", "en", [question], ["7"], ["وسبعة مدنيين"])],
                                              progress=False, mode="llm")
    finally:
        llm.clear()
    assert llm.prompts[-1].count('<source id="') == assistant.settings.top_k < DEPTH
    assert len(record.retrieved) == DEPTH and record.mode == "llm"


def test_mark_mode_keeps_unsupported_sentences(bot) -> None:
    from fake_servers import ScriptedLLM

    from assistant import Assistant

    llm = ScriptedLLM()
    assistant = Assistant(bot.settings.replace(verification={"mode": "mark"}), embedder=bot.parts.embedder,
                          second_embedder=bot.parts.encoders.second, llm=llm)
    question = "How many civilians were killed?"
    n = _number_of(assistant, question, "وسبعة مدنيين")
    llm.enqueue(f"Seven civilians were killed [{n}]. The Observatory is based in London [{n}].")
    answer = assistant.ask(question)
    assert answer.text == "Seven civilians were killed [1]. The Observatory is based in London. (unverified)"
    assert any(note.startswith("marked:") for note in answer.notes)


def test_follow_up_is_condensed_by_the_llm_in_its_own_language(scripted) -> None:
    assistant, llm = scripted
    chat = assistant.chat()
    n = _number_of(assistant, "What is the name of the news agency affiliated with IS?", "أعماق")
    llm.enqueue(f"The agency affiliated with IS is Amaq [{n}].")
    chat.ask("What is the name of the news agency affiliated with IS?")
    # The condenser answers in Arabic for an English follow-up: rejected, the rule-based rewrite is used.
    llm.enqueue("كم عدد الفارين بحسب وكالة أعماق؟", "Amaq said 800 prisoners escaped [1].")
    chat.ask("And how many escaped according to it?")
    standalone = chat.history[-1].standalone  # the rule-based rewrite: the referent, not the last question
    assert standalone.startswith("And how many escaped according to") and "What is the name" not in standalone
    llm.enqueue("How many prisoners escaped according to Amaq?", "Amaq said 800 prisoners escaped [1].")
    chat.ask("And how many escaped according to it?")
    assert chat.history[-1].standalone == "How many prisoners escaped according to Amaq?"


def test_chat_streams_and_records_the_final_answer(scripted) -> None:
    assistant, llm = scripted
    chat = assistant.chat()
    question = "How many civilians were killed?"
    n = _number_of(assistant, question, "وسبعة مدنيين")
    llm.enqueue(f"Seven civilians were killed [{n}].")
    stream = chat.ask_stream(question)
    events = [*stream, stream.answer()]
    assert isinstance(events[-1], Answer) and chat.history[-1].answer is events[-1]
    assert events[-1].text == "Seven civilians were killed [1]." and any(isinstance(e, str) for e in events)


def test_a_reply_that_loops_is_malformed_and_the_extractive_answer_follows(scripted) -> None:
    answer = _ask(scripted, "How many civilians were killed?", "answer: 136 [1]\n" * 12)
    assert answer.mode == "extractive" and answer.grounded
    first_line, _, rest = answer.text.partition("\n\n")
    assert "could not be read" in first_line and rest.count("136") <= 1
    assert any("repeats itself" in note for note in answer.notes)


def test_a_sentence_written_twice_is_kept_once(scripted) -> None:
    question = "How many civilians were killed?"
    n = _number_of(scripted[0], question, "وسبعة مدنيين")
    answer = _ask(scripted, question, f"Seven civilians were killed [{n}]. Seven civilians were killed [{n}].")
    assert answer.mode == "llm" and answer.text == "Seven civilians were killed [1]."


def test_repetition_share_counts_sentences_repeating_an_earlier_one() -> None:
    from assistant.answer.generate import without_repeats

    def repeated_share(text: str) -> float:
        return without_repeats(split_claims(text))[1]

    assert repeated_share("answer: 136 [1]\n" * 4) == 0.75
    assert repeated_share("One [1]. Two [2]. Three [1].") == 0.0
    assert repeated_share("Short [1]. Short [2].") == 0.0  # too short to judge

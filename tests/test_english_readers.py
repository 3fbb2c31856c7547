"""Short answers for English readers of Arabic documents: entities, names, glosses, one line. Pure, fast."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from assistant.answer.reader.cross_language import FSI, PDI, ReaderAids, render_for, short_answer
from assistant.errors import AssistantError
from assistant.models.transliterator import load_name_renderer
from assistant.text.entities import EntityFileError, load_entities, load_places, parse_entities
from assistant.text.glossary import WordGlosses
from assistant.text.names import KnownSpellings, NameRenderer, fold_name, letter_table, plausible_pair

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def aids() -> ReaderAids:
    """The shipped tables; glosses from a tiny fake dictionary (FreeDict may not be installed)."""
    glosses = WordGlosses({"سجن": "durance", "خلايا": "cells", "مئات": "hundredths"}, {})
    return ReaderAids(glosses, load_entities(), load_name_renderer(), load_places())


def plain(text: str) -> str:
    return text.replace(FSI, "").replace(PDI, "")


# -- the entity table -------------------------------------------------------------------------------------

def test_the_shipped_table_gives_the_article_s_groups_their_english_names():
    table = load_entities()
    assert table.lookup("قسد").english == "SDF"
    assert table.lookup("قوات سوريا الديموقراطية").english == "Syrian Democratic Forces"
    assert table.lookup("داعش").english == "Islamic State (IS)"
    assert table.lookup("وكالة أعماق").english == "Amaq news agency"
    assert table.lookup("التحالف الدولي").english == "the international coalition"
    assert table.lookup("المرصد السوري لحقوق الانسان").english == "Syrian Observatory for Human Rights"
    assert table.lookup("القائد العام").kind == "title"


def test_entities_match_with_clitics_and_spelling_variants():
    table = load_entities()
    words = "بدوره أكد القائد العام لقوات سوريا الديمقراطية بالحسكة \"الأسايش\"".split()
    found = [(m.entity.english, m.clitic) for m in table.matches(words)]
    assert found == [("commander-in-chief", ""), ("Syrian Democratic Forces", "of"), ("Hasakah", "in"),
                     ("Asayish", "")]


def test_a_user_file_extends_and_overrides_the_table(tmp_path):
    mine = tmp_path / "mine.tsv"
    mine.write_text("# my own\nقسد\tthe SDF\torganisation\nالمجس\tal-Majas\torganisation\n", encoding="utf-8")
    table = load_entities(mine)
    assert table.lookup("قسد").english == "the SDF" and table.lookup("المجس").english == "al-Majas"


@pytest.mark.parametrize("line, says", [
    ("قسد SDF organisation", "line 2: expected three tab-separated fields"),
    ("قسد\tSDF\tarmy", "line 2: unknown kind 'army'"),
    ("SDF\tقسد\torganisation", "line 2: the first field 'SDF' has no Arabic letters"),
])
def test_a_malformed_line_is_a_clear_error_naming_the_file_and_line(tmp_path, line, says):
    bad = tmp_path / "bad.tsv"
    bad.write_text("# header\n" + line + "\n", encoding="utf-8")
    with pytest.raises(EntityFileError) as error:
        load_entities(bad)
    assert str(bad) in str(error.value) and says in str(error.value)
    assert isinstance(error.value, AssistantError)


def test_a_missing_entity_file_says_which_setting_to_fix(tmp_path):
    with pytest.raises(EntityFileError, match="ASSISTANT_ENTITIES_FILE"):
        load_entities(tmp_path / "nowhere.tsv")


def test_the_shipped_tables_parse():
    assert parse_entities((ROOT / "assistant/data/entities.tsv").read_text(encoding="utf-8").splitlines(), "x")
    assert load_places().lookup("دمشق").english == "Damascus"


# -- names --------------------------------------------------------------------------------------------------

def test_a_name_form_drops_diacritics_tatweel_and_maps_other_scripts():
    assert fold_name("مُحَمَّـــد") == "محمد"
    assert fold_name("پرویز") == "برويز"
    assert fold_name("abc") == ""


def test_noisy_alignments_are_filtered_by_their_consonants():
    assert plausible_pair("محمد", "mohammed") and plausible_pair("خالد", "khaled")
    assert plausible_pair("جويس", "joyce")
    assert not plausible_pair("تاوانا", "rape") and not plausible_pair("شميت", "thiess")


def test_the_most_frequent_known_spelling_wins_and_ties_go_to_press_digraphs():
    known = KnownSpellings.from_counts({"خالد": Counter({"khaled": 98, "khalid": 66}),
                                        "بغدادي": Counter({"bagdadi": 1, "baghdadi": 1})})
    assert known.get("خالد") == "khaled" and known.get("بغدادي") == "baghdadi"


def test_the_article_is_split_off_for_people_and_dropped_for_places():
    renderer = NameRenderer(KnownSpellings.from_counts({"بغدادي": Counter({"baghdadi": 3}),
                                                        "حسكه": Counter({"hasakah": 1})}))
    assert renderer.word("البغدادي") == "al-Baghdadi"
    assert renderer.word("الحسكة", place=True) == "Hasakah"
    assert renderer.words("عبد الله") == "Abdullah"


def test_bad_input_gets_a_rendering_never_a_crash():
    renderer = load_name_renderer()
    assert renderer.word("پرویز")  # Persian letters
    assert len(renderer.word("ب" * 300)) <= 60  # a runaway "name" is cut, not fed to the model
    assert renderer.word("مَظْلُــوم") == renderer.word("مظلوم")
    assert renderer.word("—") == ""
    assert letter_table("غويران") == "ghuiran"


# -- short answers ------------------------------------------------------------------------------------------

def test_who_answers_read_as_the_press_writes_them(aids):
    span = "القائد العام لقوات سوريا الديمقراطية مظلوم عبدي"
    shown = short_answer(span, "en", "who", aids)
    assert shown == f"commander-in-chief of the Syrian Democratic Forces, Mazloum Abdi ({FSI}«{span}»{PDI})"
    assert plain(short_answer("قسد", "en", "who", aids)) == "SDF («قسد»)"


def test_the_article_s_named_entities_are_all_rendered(aids):
    expected = {
        "قسد": "SDF", "قوات سوريا الديمقراطية": "Syrian Democratic Forces", "تنظيم الدولة": "Islamic State (IS)",
        "داعش": "Islamic State (IS)", "الأسايش": "Asayish", "وكالة أعماق": "Amaq news agency",
        "التحالف الدولي": "the international coalition", "الحسكة": "Hasakah", "غويران": "Ghweiran",
        "المرصد السوري لحقوق الانسان": "Syrian Observatory for Human Rights", "القائد العام": "commander-in-chief",
        "مظلوم عبدي": "Mazloum Abdi", "سجن الصناعة": "al-Sinaa prison", "قوى الأمن الداخلي": "Internal Security Forces",
        "قوات مكافحة الإرهاب": "counter-terrorism forces", "سوريا": "Syria",
    }
    for arabic, english in expected.items():
        assert render_for(arabic, "en", aids, names=True).text == english, arabic


def test_a_number_is_never_glossed_with_itself(aids):
    assert short_answer("80", "en", "number", aids) == "80"
    assert short_answer("80", "ar", "number", aids) == "80"
    assert short_answer("310", "ar", "other", aids) == "310"
    assert plain(short_answer("80 سجيناً", "en", "number", aids)) == "80 («80 سجيناً»)"


def test_news_senses_come_before_the_dictionary_s_first_translation(aids):
    assert plain(short_answer("مئات", "en", "number", aids)) == "hundreds (gloss of «مئات»)"
    assert plain(short_answer("منشورات", "en", "other", aids)) == "leaflets (gloss of «منشورات»)"


def test_a_long_answer_that_needs_many_glosses_is_shown_in_arabic_and_labelled(aids):
    span = "خلايا التنظيم من خارج السجن"
    assert plain(short_answer(span, "en", "who", aids)) == f"a phrase (Arabic): «{span}»"
    long = "القوات الخاصة التابعة لها بدعم من التحالف الذي عزز وجوده في كامل حي غويران"
    assert plain(short_answer(long, "en", "other", aids)).startswith("a phrase (Arabic): «")


def test_no_short_answer_glosses_more_than_two_words(aids):
    text = (ROOT / "corpus" / "ghweiran-prison.txt").read_text(encoding="utf-8")
    words = text.split()
    for start in range(0, len(words) - 6, 3):
        for length in (1, 2, 4, 6):
            span = " ".join(words[start:start + length])
            for names in (False, True):
                assert render_for(span, "en", aids, names=names).glossed <= 2, span


def test_the_short_answer_and_its_arabic_stay_on_one_isolated_line(aids):
    shown = short_answer("سبعة", "en", "number", aids)
    assert shown == f"7 ({FSI}«سبعة»{PDI})" and "\n" not in shown


# -- one line on screen, files by name ----------------------------------------------------------------------

def test_the_web_chat_keeps_the_short_answer_and_its_arabic_on_one_line():
    from assistant.types import Answer
    from assistant.ui.html import render_answer

    text = f"7 ({FSI}«سبعة»{PDI}) — the document says: «وسبعة مدنيين» [1]"
    html = render_answer(Answer(text=text, grounded=True, language="en"), 1)
    assert '7 (<bdi class="original">«سبعة»</bdi>) — the document says:' in html
    assert html.count("<p") == 1


def test_citations_name_files_never_server_paths():
    from assistant.types import AnswerSpan, Citation, file_name

    upload = "/srv/app/index/uploads/6d9bf081aa/Harbor Fire Report 2024.txt"
    citation = Citation(chunk_id="c", source=upload, title="t", paragraph=1, start=0, end=4, text="text",
                        number=1, score=1.0)
    assert citation.file == "Harbor Fire Report 2024.txt"
    assert citation.to_dict()["source"] == "Harbor Fire Report 2024.txt"
    assert AnswerSpan("x", upload, 0, 1).to_dict()["source"] == "Harbor Fire Report 2024.txt"
    assert file_name("ghweiran-prison.txt") == "ghweiran-prison.txt"
    assert file_name("reports/fire.txt") == "reports/fire.txt"
    assert file_name("index/uploads/6d9b/fire.txt") == "fire.txt"


# -- key facts under an Arabic quote ------------------------------------------------------------------------

def test_an_arabic_quote_s_key_facts_are_rendered_for_an_english_reader(aids):
    from assistant.answer.reader.cross_language import key_facts

    quote = ("وأدت الاشتباكات بين تنظيم الدولة وقسد إلى مقتل 136 شخصاً على الأقل، هم 84 من تنظيم الدولة و45 من "
             "الأسايش وسبعة مدنيين، بحسب المرصد السوري لحقوق الانسان.")
    facts = key_facts(quote, aids).split(" · ")
    assert facts[:4] == ["136 people", "84 of Islamic State (IS)", "45 of Asayish", "7 civilians"]
    assert "Syrian Observatory for Human Rights" in facts and "SDF" in facts
    assert key_facts("ألقت أمس الأحد منشورات في مدينة الحسكة", aids) == "Sunday · Hasakah city"
    assert key_facts("An English quote", aids) == ""


def test_the_web_chat_shows_the_key_facts_under_the_quote_they_belong_to():
    from assistant.types import Answer, Citation
    from assistant.ui.html import render_answer

    citation = Citation(chunk_id="c", source="a.txt", title="t", paragraph=1, start=0, end=4, text="نص",
                        number=1, score=1.0, quote="سبعة مدنيين", facts="7 civilians")
    answer = Answer(text=f"7 ({FSI}«سبعة»{PDI}) — the document says: «سبعة مدنيين» [1]", grounded=True,
                    language="en", citations=[citation])
    html = render_answer(answer, 1)
    assert '<span class="facts" dir="ltr">[1] 7 civilians</span>' in html
    assert "facts" not in render_answer(answer, 1, upto=10)  # not while it streams


def test_a_construct_reads_noun_of_owner(aids):
    assert render_for("طائرات التحالف الدولي", "en", aids).text == "aircraft of the international coalition"
    assert render_for("الرقة", "en", aids, names=True, place=True).text == "Raqqa"


def test_an_arabic_reader_gets_the_mirror(aids):
    assert render_for("the Syrian Democratic Forces", "ar", aids).text == "قوات سوريا الديمقراطية"
    assert render_for("Sunday", "ar", aids).text == "الاحد"
    assert render_for("Mazloum Abdi", "ar", aids).text == "مظلوم عبدي"
    assert render_for("Port Amsel", "ar", aids).text == "Port Amsel"


def test_every_example_button_answers_correctly_on_a_fresh_index(bot):
    import json

    from assistant.eval.metrics import contains_answer
    from assistant.ui.handlers import EXAMPLE_IDS, load_examples

    rows = {r["id"]: r for r in map(json.loads, (ROOT / "assistant/data/questions.jsonl").read_text(
        encoding="utf-8").splitlines())}
    shown = {q for questions in load_examples().values() for q in questions}
    for row in (rows[i] for i in EXAMPLE_IDS):
        assert row["question"] in shown
        answer = bot.ask(row["question"])
        accepted = [a for a in row["answers"] if row["lang"] == "ar" or a.isascii()]
        assert answer.grounded and any(contains_answer(answer.short, a) for a in accepted), (row["id"], answer.short)

"""Answers from a reader, end to end over the real index of the article, with a fake reader.

The fake finds a fixed string in the passages it is given and scores it with a fixed margin, so
these tests pin what the answerer does with a reading (short answer, exact span, quote, refusal,
rendering for English readers) without depending on the trained weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from assistant.answer.reader.cross_language import FSI, PDI, render_for
from assistant.answer.reader.model import Reading
from assistant.answer.reader.spans import SpanCandidate


class FakeReader:
    """Reads ``answer`` wherever it first appears, with ``margin`` over no answer."""

    def __init__(self, answer: str, margin: float = 5.0) -> None:
        self.answer, self.margin = answer, margin
        self.calls: list[tuple[str, int]] = []

    def read(self, question: str, passages: Sequence[str]) -> Reading:
        self.calls.append((question, len(passages)))
        for p, text in enumerate(passages):
            at = text.find(self.answer)
            if at >= 0:
                return Reading((SpanCandidate(p, at, at + len(self.answer), self.margin, 0.0),), 0.0, len(passages))
        return Reading((), 0.0, len(passages))


@pytest.fixture
def ask_with(bot, settings_base, embedder, article_corpus):
    from assistant import Assistant

    def make(reader: FakeReader, **reader_settings):
        assistant = Assistant(bot.settings.replace(reader=reader_settings), embedder=embedder,
                              glossary=bot.parts.glossary, reader=reader)
        return assistant

    return make


def test_the_short_answer_leads_and_the_span_points_into_the_source(ask_with, article_corpus):
    answer = ask_with(FakeReader("سبعة مدنيين")).ask("كم عدد المدنيين الذين قتلوا؟")
    assert answer.grounded and answer.short == "سبعة مدنيين"
    assert answer.text.startswith("سبعة مدنيين — «")
    text = (article_corpus / "ghweiran-prison.txt").read_text(encoding="utf-8")
    assert text[answer.span.start:answer.span.end] == answer.span.text == "سبعة مدنيين"
    citation = answer.citations[0]
    assert citation.quote_start <= answer.span.start < answer.span.end <= citation.quote_end
    assert text[citation.quote_start:citation.quote_end] == citation.quote
    payload = answer.to_dict()
    assert payload["short"] == "سبعة مدنيين" and payload["span"]["start"] == answer.span.start


def test_a_count_is_the_number_the_question_names_in_the_sentence_the_reader_chose(ask_with):
    # The reader points at the casualty sentence's total; the question counts the Asayish and guards.
    answer = ask_with(FakeReader("136")).ask("كم قتيلاً سقط من الأسايش وحراس السجن؟")
    assert answer.outcome == "answer" and answer.short.startswith("45"), answer.text[:200]
    assert answer.span.text == "45"


def test_an_english_reader_gets_the_number_in_digits_with_the_arabic_beside_it(ask_with):
    answer = ask_with(FakeReader("سبعة")).ask("How many civilians were killed?")
    assert answer.short == f"7 ({FSI}«سبعة»{PDI})"
    assert answer.text.startswith(f"7 ({FSI}«سبعة»{PDI}) — the document says:")


def test_an_english_reader_gets_a_name_transliterated_and_marked(ask_with):
    answer = ask_with(FakeReader("مظلوم عبدي")).ask("Who is the commander-in-chief of the SDF?")
    assert answer.short == f"Mazloum Abdi ({FSI}«مظلوم عبدي»{PDI})"


def test_other_spans_are_glossed_word_by_word_and_marked_as_a_gloss():
    from assistant.text.glossary import WordGlosses

    glosses = WordGlosses({"سياره": "car", "مفخخه": "booby-trapped"}, {})
    rendering = render_for("بسيارة مفخخة", "en", glosses)
    assert rendering.how == "gloss"
    assert rendering.shown("بسيارة مفخخة") == f"booby-trapped car (gloss of {FSI}«بسيارة مفخخة»{PDI})"


def test_below_the_margin_threshold_the_answer_is_an_honest_refusal(ask_with):
    bot = ask_with(FakeReader("سبعة", margin=1.0), min_evidence_same=5.0,
                   min_evidence_across=5.0)
    answer = bot.ask("من هو مدير سجن الصناعة؟")
    assert not answer.grounded and answer.short == "" and answer.span is None
    assert answer.text.startswith("لم أجد")
    english = bot.ask("How many civilians were killed?")  # on topic: only the reader's margin refuses it
    assert not english.grounded and english.text.startswith("I could not find")
    assert english.reader_margin == pytest.approx(1.0)


def test_no_span_at_all_is_a_refusal(ask_with):
    answer = ask_with(FakeReader("لا يوجد هذا النص")).ask("كم عدد المدنيين الذين قتلوا؟")
    assert not answer.grounded and answer.reader_margin is None


def test_the_reader_reads_only_the_configured_number_of_passages(ask_with):
    reader = FakeReader("سبعة")
    ask_with(reader, passages=2, sentences=0).ask("كم عدد المدنيين الذين قتلوا؟")
    assert reader.calls == [("كم عدد المدنيين الذين قتلوا؟", 2)]


def test_by_default_it_reads_the_best_sentences_and_fewer_across_languages(ask_with):
    reader = FakeReader("سبعة")
    bot = ask_with(reader, sentences=3, sentences_across=1)
    bot.ask("كم عدد المدنيين الذين قتلوا؟")
    bot.ask("How many civilians were killed?")
    assert [n for _, n in reader.calls] == [3, 1]


def test_the_evidence_is_support_plus_the_weighted_margin(ask_with):
    # Support is about 1.0 on topic: 1.0 + 1 x margin 1.0 is under 2.5, 1.0 + 2 x 1.0 over it.
    question = "كم عدد المدنيين الذين قتلوا؟"
    refused = ask_with(FakeReader("سبعة", margin=1.0), min_evidence_same=2.5).ask(question)
    answered = ask_with(FakeReader("سبعة", margin=1.0), min_evidence_same=2.5,
                        margin_weight=2.0).ask(question)
    assert not refused.grounded and answered.grounded


def test_the_asked_sources_figure_is_read_when_no_claimed_value_passes(ask_with):
    # The claims the sentence picker saw (the SDF centre's 35 dead, Amaq's 800) fail for "the escapees
    # according to the SDF"; the reader's own span, a long one around the SDF's 80, is cut to its number.
    reader = FakeReader("أكثر الفارين من السجن، الذين يقدر عددهم بحدود 80 سجيناً")
    answer = ask_with(reader, selective="").ask("كم عدد الفارين حسب قسد؟")
    assert answer.outcome == "answer" and answer.span is not None and answer.span.text == "80", answer.text[:200]


def test_competing_claims_each_lead_with_their_value_and_who_gives_it(ask_with):
    answer = ask_with(FakeReader("80")).ask("كم عدد الفارين من السجن؟")
    assert answer.grounded
    assert answer.short == "80 (قسد) / 800 (أعماق)"  # قسد is named in the sentence before "وأشارت أنها"
    assert "- 800 بحسب أعماق: «" in answer.text
    assert answer.span is not None and answer.span.text in ("80", "800")


def test_missing_weights_fall_back_to_the_sentence_picker_with_one_line(bot, embedder, onnx_files, tmp_path):
    from assistant import Assistant
    from assistant.models.onnx import is_complete

    settings = bot.settings.replace(reader={"adapter": str(tmp_path / "no-such-adapter")})
    assistant = Assistant(settings, embedder=embedder, glossary=bot.parts.glossary)
    answer = assistant.ask("كم عدد المدنيين الذين قتلوا؟")
    assert answer.grounded and "سبعة" in answer.text
    assert "adapter_config.json is missing" in assistant.parts.reader_problem
    assert "make reader" in assistant.parts.reader_problem and "\n" not in assistant.parts.reader_problem
    assert answer.notes and answer.notes[0] == assistant.parts.reader_problem
    # The adapter's fault is not the ONNX export's: it stays, for every other process.
    assert assistant.parts.runtime_problem == "" and is_complete(onnx_files.folder)


def test_corrupt_weights_fall_back_too(bot, embedder, onnx_files, tmp_path):
    from assistant import Assistant
    from assistant.models.onnx import is_complete
    from assistant.models.reader import SHIPPED_ADAPTER

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "adapter_config.json").write_text((SHIPPED_ADAPTER / "adapter_config.json").read_text())
    (broken / "adapter_model.safetensors").write_bytes(b"\x00" * 64)
    assistant = Assistant(bot.settings.replace(reader={"adapter": str(broken)}), embedder=embedder,
                          glossary=bot.parts.glossary)
    answer = assistant.ask("How many civilians were killed?")
    assert answer.grounded
    problem = assistant.parts.reader_problem
    assert "adapter_model.safetensors" in problem or str(broken) in problem
    assert assistant.parts.runtime_problem == "" and is_complete(onnx_files.folder)


# -- rendering (pure) ---------------------------------------------------------------------------------

@pytest.mark.parametrize("span, shown", [
    ("سبعة", f"7 ({FSI}«سبعة»{PDI})"),
    ("١٣٦", f"136 ({FSI}«١٣٦»{PDI})"),
    ("الأحد", f"Sunday ({FSI}«الأحد»{PDI})"),
    ("20 يناير 2022", f"20 January 2022 ({FSI}«20 يناير 2022»{PDI})"),
])
def test_exact_renderings_for_english_readers(span, shown):
    assert render_for(span, "en", None).shown(span) == shown


def test_names_are_transliterated_with_the_original_beside_them():
    rendering = render_for("مظلوم", "en", None, names=True)
    assert rendering.how == "names" and rendering.shown("مظلوم") == f"{rendering.text} ({FSI}«مظلوم»{PDI})"


def test_an_english_span_for_an_arabic_reader_is_the_mirror():
    assert render_for("Sunday", "ar", None).text == "الاحد"
    assert render_for("800", "ar", None).text == "800"
    assert render_for("Mazloum Abdi", "ar", None).text == "Mazloum Abdi"


def test_the_sources_panel_highlights_the_span_inside_the_quoted_sentence(ask_with):
    from assistant.ui.html import render_sources

    answer = ask_with(FakeReader("سبعة مدنيين")).ask("كم عدد المدنيين الذين قتلوا؟")
    html = render_sources([("كم عدد المدنيين الذين قتلوا؟", answer)])
    assert '<strong class="span">سبعة مدنيين</strong>' in html
    mark = html[html.index("<mark>"):html.index("</mark>")]
    assert '<strong class="span">' in mark  # inside the highlighted sentence


def test_a_counts_span_is_cut_to_its_number() -> None:
    from assistant.answer.reader.answering import narrowed_count
    from assistant.types import Chunk, Hit

    text = ("كاشفةً عن إحراق نحو 25 آلية متنوعة والاستيلاء على 4 آليات دفع رباعي، وقالت إن الفارين يقدر عددهم "
            "بحدود 80 سجيناً.")
    hit = Hit.of(Chunk(chunk_id="c", source="s.txt", title="", paragraph=0, start=0, end=len(text), text=text), 1.0)

    def span(words: str) -> SpanCandidate:
        at = text.index(words)
        return SpanCandidate(0, at, at + len(words), 1.0, 0.0)

    def cut(words: str, pinned: str = "") -> str:
        got = narrowed_count(span(words), hit, pinned)
        return text[got.start:got.end]

    assert cut("25 آلية متنوعة والاستيلاء على 4 آليات", "25") == "25"  # several numbers: the pinned one
    assert cut("25 آلية متنوعة والاستيلاء على 4 آليات") == "25 آلية متنوعة والاستيلاء على 4 آليات"  # none pinned
    assert cut("وقالت إن الفارين يقدر عددهم بحدود 80 سجيناً") == "80"  # many words, one number
    assert cut("80 سجيناً") == "80 سجيناً"  # short already

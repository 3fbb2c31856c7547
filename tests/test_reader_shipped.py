"""The committed reader weights, end to end on the shipped article: numbers and names as short answers.

These run the real trained adapter (assistant/data/reader) over the real index. They pin what a user
of the shipped article gets; the figures on the whole set and on XQuAD are in docs/reader.md.
"""

from __future__ import annotations

import pytest

from assistant.eval.metrics import contains_answer

CASES = [
    ("كم عدد القتلى الإجمالي في الاشتباكات حسب المرصد السوري؟", ["136"]),
    ("كم عنصراً من تنظيم الدولة قُتل وفق حصيلة المرصد؟", ["84"]),
    ("كم عدد المدنيين الذين قتلوا؟", ["سبعة", "7"]),
    ("من هو القائد العام لقوات سوريا الديمقراطية؟", ["مظلوم عبدي"]),
    ("How many people have been killed in total since the fighting began?", ["136"]),
    ("How many civilians were killed?", ["7"]),
    ("Who is the commander-in-chief of the SDF?", ["مظلوم عبدي"]),
    ("On which day did the clashes around the prison resume?", ["Monday"]),
]


@pytest.fixture(scope="module")
def reader_bot(bot):
    assert bot.reader_answerer is not None, bot.reader_problem
    return bot


@pytest.mark.parametrize("question, accepted", CASES)
def test_the_short_answer_is_right_and_comes_first(reader_bot, question, accepted):
    answer = reader_bot.ask(question)
    assert answer.grounded, answer.text
    assert any(contains_answer(answer.short, a) for a in accepted), (answer.short, answer.text)
    assert answer.text.startswith(answer.short)
    source = answer.span.source
    assert source.endswith("ghweiran-prison.txt")


def test_an_english_reader_gets_the_number_in_digits(reader_bot):
    answer = reader_bot.ask("How many civilians were killed?")
    assert answer.short.startswith("7")


@pytest.mark.parametrize("question", [
    "في أي عام افتتح سجن الصناعة؟",
    "Which phone numbers were printed on the leaflets?",
])
def test_near_misses_are_refused(reader_bot, question):
    # Refusal is the reader's weakest part (docs/reader.md): these are near misses it does refuse.
    answer = reader_bot.ask(question)
    assert not answer.grounded, answer.text

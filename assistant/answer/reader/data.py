"""Reader training data: SQuAD-format files read and checked, plus examples made from them.

Every file in ``../shared/data/reader`` (ARCD, AQAD, half of SQuAD 2.0 dev) uses SQuAD's JSON layout.
A malformed file stops training with its name and its first bad record, before any time is spent.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ...ingest.squad import SquadFormatError, read_squad


@dataclass(frozen=True)
class QAExample:
    """One question on one passage; ``answer`` is empty when the passage does not answer it."""

    qid: str
    question: str
    context: str
    answer_start: int
    answer: str
    title: str = ""
    origin: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.answer)

    @property
    def answer_end(self) -> int:
        return self.answer_start + len(self.answer)


def load_examples(path: Path, origin: str = "", skipped: list[str] | None = None) -> list[QAExample]:
    """Read a SQuAD (1.1 or 2.0) JSON file (:func:`~assistant.ingest.squad.read_squad`); answerable
    questions keep their first answer.

    A question whose first answer is empty text (AQAD has two) carries no label: it is left out, and
    its id added to ``skipped`` when given.

    Raises:
        SquadFormatError: The file cannot be read, is not SQuAD JSON, or a record is malformed (an
            answer that is not at its ``answer_start``, a question without answers that is not marked
            ``is_impossible``); the message names the file and the record.
    """
    path = Path(path)
    origin = origin or path.stem
    examples = []
    for paragraph in read_squad(path):
        for qa in paragraph.qas:
            example = _example(path, paragraph.where, qa, paragraph.context, paragraph.title, origin)
            if example is not None:
                examples.append(example)
            elif skipped is not None:
                skipped.append(f"{path.name}:{qa.get('id', '?')}")
    if not examples:
        raise SquadFormatError(f"{path}: holds no questions; give a SQuAD-format file with some.")
    return examples


def _example(path: Path, where: str, qa: object, context: str, title: str, origin: str) -> QAExample | None:
    if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or not qa["question"].strip():
        raise SquadFormatError(f"{path}: {where}: a question record has no question text: {str(qa)[:200]}")
    qid = str(qa.get("id", ""))
    answers = qa.get("answers") or []
    if not isinstance(answers, list):
        raise SquadFormatError(f'{path}: question {qid!r} ({where}): "answers" is not a list.')
    if not answers:
        if not qa.get("is_impossible", False):
            raise SquadFormatError(
                f"{path}: question {qid!r} ({where}) has no answers and is not marked is_impossible.")
        return QAExample(qid, qa["question"].strip(), context, 0, "", title, origin)
    first = answers[0]
    text, start = (first.get("text"), first.get("answer_start")) if isinstance(first, dict) else (None, None)
    if text == "" and isinstance(start, int):
        return None
    if not isinstance(text, str) or not isinstance(start, int):
        raise SquadFormatError(f'{path}: question {qid!r} ({where}): an answer needs "text" and "answer_start".')
    if context[start : start + len(text)] != text:
        raise SquadFormatError(
            f"{path}: question {qid!r} ({where}): answer {text!r} is not at answer_start {start} "
            f"(the context there reads {context[start:start + len(text)]!r}).")
    return QAExample(qid, qa["question"].strip(), context, start, text, title, origin)


def paragraphs_by_title(examples: Iterable[QAExample]) -> dict[str, list[str]]:
    """Each article's paragraphs, in order of first appearance."""
    by_title: dict[str, dict[str, None]] = {}
    for e in examples:
        by_title.setdefault(e.title, {})[e.context] = None
    return {title: list(contexts) for title, contexts in by_title.items()}


def other_paragraph_negatives(examples: Sequence[QAExample], share: float, rng: random.Random) -> list[QAExample]:
    """Near-miss unanswerable examples: a question paired with another paragraph of its own article.

    The paragraph is on topic (same article) but, unless it also holds the answer text, does not
    answer the question: the case similarity cannot tell apart. ``share`` of the answerable examples
    get one each.
    """
    by_title = paragraphs_by_title(examples)
    made = []
    for e in examples:
        if not e.answerable or rng.random() >= share:
            continue
        others = [c for c in by_title.get(e.title, []) if c != e.context and e.answer not in c]
        if others:
            made.append(replace(e, qid=e.qid + "-other", context=rng.choice(others), answer_start=0, answer="",
                                origin=e.origin + "+other"))
    return made


def edited_negatives(examples: Sequence[QAExample], language: str, share: float,
                     rng: random.Random) -> list[QAExample]:
    """Unanswerable copies made the way SQuAD 2.0's were written: ``share`` of the answerable examples
    get their question edited (:func:`~assistant.text.near_miss.make_near_miss`) and keep their own
    paragraph, which no longer answers it. The article's other paragraphs supply swapped names."""
    from ...text.near_miss import make_near_miss

    by_title = paragraphs_by_title(examples)
    made = []
    for e in examples:
        if not e.answerable or rng.random() >= share:
            continue
        others = [c for c in by_title.get(e.title, []) if c != e.context]
        edited = make_near_miss(e.question, e.context, others, language)
        if edited is not None:
            made.append(replace(e, qid=f"{e.qid}-{edited.edit}", question=edited.question, answer_start=0,
                                answer="", origin=e.origin + "+edited"))
    return made


def code_switched(examples: Iterable[QAExample], translate: Callable[[str], str | None], share: float,
                  word_share: float, rng: random.Random) -> list[QAExample]:
    """Copies of some questions with words swapped for their glossary translations.

    Mixed-language questions (code-switching, as in CoSDA-ML) teach the reader to match a question in
    one language to a passage in the other; no translated question set installs offline here.
    ``translate`` returns a word's translation or ``None``; a copy is kept only when a word changed.
    """
    made = []
    for e in examples:
        if rng.random() >= share:
            continue
        words = e.question.split()
        swapped = [(translate(w) or w) if rng.random() < word_share else w for w in words]
        if swapped != words:
            made.append(replace(e, qid=e.qid + "-mixed", question=" ".join(swapped), origin=e.origin + "+mixed"))
    return made

"""Question sets: the shipped one, the user's JSONL files, and SQuAD-format sets (XQuAD). Pure."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..ingest.squad import SquadFormatError, SquadParagraph, read_squad
from ..text.normalize import detect_language

#: Ranked chunks kept per question: enough for MRR@10 and nDCG@10.
DEPTH = 10


@dataclass(frozen=True)
class Question:
    """One item of a question set (a conversation when ``turns`` has more than one entry).

    ``gold_sources`` names the documents that are the gold passage (SQuAD paragraphs); when it is
    empty, chunks containing an ``evidence`` string are the gold passages.
    """

    id: str
    lang: str
    turns: list[str]
    answers: list[str]
    evidence: list[str]
    answerable: bool = True
    all_answers: bool = False
    gold_sources: list[str] = field(default_factory=list)
    #: Documents the question is answered without (a near-miss: its gold paragraph left out).
    exclude_sources: list[str] = field(default_factory=list)
    #: Part of a conversation set: a turn of a dialogue, or a conversation's last turn.
    conversation: bool = False

    @property
    def question(self) -> str:
        """The last (scored) turn."""
        return self.turns[-1]


# -- question sets --------------------------------------------------------------------------------

def default_question_files() -> list[Path]:
    """The shipped question set: single questions, conversations scored on their last turn, and
    dialogues scored on every turn."""
    data = resources.files("assistant") / "data"
    return [Path(str(data / name)) for name in ("questions.jsonl", "conversations.jsonl", "dialogues.jsonl")]


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question set (questions or conversations).

    Raises:
        ConfigError: A line is not valid JSON or lacks a required field, with its line number.
    """
    items = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            turns = raw["turns"] if "turns" in raw else [raw["question"]]
            if turns and all(isinstance(turn, dict) for turn in turns):
                items.extend(dialogue_items(raw))
                continue
            items.append(Question(
                id=str(raw["id"]), lang=raw.get("lang", ""), turns=list(turns), answers=list(raw.get("answers", [])),
                evidence=list(raw.get("evidence", [])), answerable=bool(raw.get("answerable", True)),
                all_answers=bool(raw.get("all_answers", False)), gold_sources=list(raw.get("gold_sources", [])),
                conversation=len(turns) > 1,
            ))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise ConfigError(
                f"{path}:{number}: not a question record ({error}); each line needs "
                '{"id", "lang", "question" or "turns", "answers", "evidence", "answerable"}, or for a '
                'dialogue scored on every turn {"id", "lang", "turns": [{"question", "answers", "evidence"}, ...]}.'
            ) from None
    return items


def dialogue_items(raw: dict[str, Any]) -> list[Question]:
    """A dialogue scored on every turn: one item per turn, asked after the turns before it in one chat
    (``{"question", "answers", "evidence", "answerable"}`` each; a turn without answers is unanswerable)."""
    turns = [str(turn["question"]) for turn in raw["turns"]]
    items = []
    for index, turn in enumerate(raw["turns"]):
        answers = list(turn.get("answers", []))
        items.append(Question(
            id=f"{raw['id']}-t{index + 1}", lang=raw.get("lang", ""), turns=turns[: index + 1], answers=answers,
            evidence=list(turn.get("evidence", [])), answerable=bool(turn.get("answerable", bool(answers))),
            all_answers=bool(turn.get("all_answers", False)), conversation=True,
        ))
    return items


@dataclass(frozen=True)
class SquadSet:
    """A SQuAD-format set: the paragraphs to index (file name -> text) and the questions on them."""

    paragraphs: dict[str, str]
    questions: list[Question]


def load_squad(contexts: Path, questions_from: Sequence[Path] = (), limit: int | None = None) -> SquadSet:
    """Read SQuAD-format JSON: its paragraphs, and questions from it or from parallel files.

    Each paragraph becomes a document named ``p{article:03d}-{paragraph:02d}.txt``; the gold
    passage of a question is its own paragraph (and any paragraph with the very same text).

    Args:
        contexts: The SQuAD file whose paragraphs are indexed.
        questions_from: Files with the same question ids in another language (XQuAD's are
            parallel); their questions are asked against ``contexts``. Default: ``contexts`` itself.
        limit: Only the first ``limit`` questions of each file.

    Returns:
        The paragraphs and the questions. Accepted answers are the gold spans of both files;
        the evidence is the gold spans in the indexed language. SQuAD 2.0 ``is_impossible``
        questions are unanswerable.

    Raises:
        ConfigError: A file is unreadable or not SQuAD, or a question id is not in ``contexts``.
    """
    paragraphs: dict[str, str] = {}
    gold_of: dict[str, str] = {}
    spans_of: dict[str, list[str]] = {}
    for paragraph in _read_questions(contexts):
        name = f"p{paragraph.article:03d}-{paragraph.paragraph:02d}.txt"
        paragraphs[name] = paragraph.context
        for qa in paragraph.qas:
            gold_of[str(qa["id"])] = name
            spans_of[str(qa["id"])] = [x["text"] for x in qa.get("answers", [])]
    same_text: dict[str, list[str]] = {}
    for name, text in paragraphs.items():
        same_text.setdefault(text, []).append(name)

    questions: list[Question] = []
    for path in questions_from or [contexts]:
        items = [(str(qa["id"]), qa) for paragraph in _read_questions(path) for qa in paragraph.qas]
        if limit is not None:
            items = items[:limit]
        languages = Counter(detect_language(qa["question"]) for _, qa in items)
        lang = languages.most_common(1)[0][0] if languages else ""
        for qid, qa in items:
            if qid not in gold_of:
                raise ConfigError(
                    f"Question id {qid!r} of {path} is not in {contexts}; --questions-from must be a "
                    "translation of the same SQuAD set (the XQuAD files share their ids)."
                )
            evidence = spans_of[qid]
            accepted = list(dict.fromkeys(evidence + [x["text"] for x in qa.get("answers", [])]))
            answerable = not qa.get("is_impossible", False) and bool(accepted)
            questions.append(Question(
                id=f"{lang}-{qid}", lang=lang, turns=[qa["question"]], answers=accepted, evidence=evidence,
                answerable=answerable, gold_sources=same_text[paragraphs[gold_of[qid]]] if answerable else [],
            ))
    return SquadSet(paragraphs, questions)


def _read_questions(path: Path) -> list[SquadParagraph]:
    """:func:`~assistant.ingest.squad.read_squad`, every question record with an id and a question."""
    paragraphs = read_squad(path)
    for paragraph in paragraphs:
        for qa in paragraph.qas:
            if "id" not in qa or not isinstance(qa.get("question"), str):
                raise SquadFormatError(f'{path} is not SQuAD-format JSON: {paragraph.where}: a question record '
                                       f'needs an "id" and a "question": {str(qa)[:200]}')
    return paragraphs

"""Synthetic near misses: answerable questions changed the way SQuAD 2.0's unanswerable ones were
written, so that their paragraph no longer answers them. Pure.

Three edits, each kept only when the paragraph does not state the new words:

- swap a name (or a number) of the question for another of the same article ("How many sacks did
  Jared Allen have?" -> "... did Luke Kuechly have?"; "in 2015" -> "in 2031");
- change the predicate to its opposite ("won" -> "lost", "أول" -> "آخر");
- add a constraint the paragraph does not support (a year it never gives).

Labels are a heuristic: a swapped name can still be answered elsewhere in the paragraph. They are
negatives for fitting selective answering alongside XQuAD's own near misses, never a test set.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .normalize import normalize_arabic, tokenize

#: Predicates and their opposites; an edit applies when the question has the first and the paragraph
#: lacks the second (normalised spelling for Arabic).
OPPOSITES = {
    "won": "lost", "win": "lose", "killed": "wounded", "built": "demolished", "founded": "dissolved",
    "opened": "closed", "born": "buried", "first": "last", "largest": "smallest", "most": "fewest",
    "before": "after", "after": "before", "increased": "decreased", "north": "south", "east": "west",
    "اول": "اخر", "اكبر": "اصغر", "قبل": "بعد", "بعد": "قبل", "فاز": "خسر", "قتل": "جرح", "اكثر": "اقل",
    "شمال": "جنوب", "شرق": "غرب", "تاسست": "حلت", "بني": "هدم", "ولد": "دفن",
}
_AR_WORD = re.compile(r"[\u0621-\u064a]{4,}")
_NUMBER = re.compile(r"(?<!\d)\d{1,4}(?!\d)")
_EN_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)")


@dataclass(frozen=True)
class NearMiss:
    """A question changed so that its paragraph no longer answers it, and how it was changed."""

    question: str
    edit: str


def make_near_miss(question: str, paragraph: str, others: Sequence[str], language: str) -> NearMiss | None:
    """One near miss of ``question`` on ``paragraph`` (``others``: the article's other paragraphs, all in
    the question's language), or ``None`` when no edit applies. The edit tried first depends on the
    question, so a set gets a mix; a year is added only when no other edit applies."""
    if not tokenize(question):
        return None
    edits = [_swap_name, _opposite, _swap_number]
    start = int(hashlib.sha256(question.encode()).hexdigest(), 16) % len(edits)
    for edit in [*edits[start:], *edits[:start], _add_year]:  # a year added only when nothing else applies
        changed = edit(question, paragraph, others, language)
        if changed and changed != question:
            return NearMiss(changed, edit.__name__.lstrip("_"))
    return None


def _in(text: str, phrase: str) -> bool:
    return normalize_arabic(phrase) in normalize_arabic(text)


def _swap_name(question: str, paragraph: str, others: Sequence[str], language: str) -> str:
    """A name of the question that the paragraph gives, swapped for a name of another paragraph."""
    if language == "en":
        names = [m.group(1) for m in _EN_NAME.finditer(question) if _in(paragraph, m.group(1))]
        pool = [m.group(1) for text in others for m in _EN_NAME.finditer(text)
                if len(m.group(1)) > 3 and not _in(paragraph, m.group(1))]
    else:  # words rare in the article stand in for names (Arabic has no capitals)
        vocabularies = [set(_AR_WORD.findall(normalize_arabic(text))) for text in (paragraph, *others)]
        counts = Counter(word for vocabulary in vocabularies for word in vocabulary)
        own = vocabularies[0]
        words = [w for w in _AR_WORD.findall(question) if tokenize(w)]
        names = [w for w in words if normalize_arabic(w) in own and counts[normalize_arabic(w)] <= 2]
        pool = sorted({w for vocabulary in vocabularies[1:] for w in vocabulary
                       if counts[w] <= 2 and w not in own and tokenize(w)})
    if not names or not pool:
        return ""
    pick = pool[int(hashlib.sha256(question.encode()).hexdigest(), 16) % len(pool)]
    return question.replace(names[0], pick, 1)


def _opposite(question: str, paragraph: str, others: Sequence[str], language: str) -> str:
    for word in re.findall(r"[^\W\d_]+", question):
        key = normalize_arabic(word)
        bare = key[1:] if key[:1] in "وف" and key[1:] in OPPOSITES else key
        other = OPPOSITES.get(bare)
        if other and not _in(paragraph, other):
            return question.replace(word, word[: len(word) - len(bare)] + other, 1)
    return ""


def _swap_number(question: str, paragraph: str, others: Sequence[str], language: str) -> str:
    for match in _NUMBER.finditer(question):
        value = int(match.group())
        for step in (7, 13, 29):
            new = str(value + step)
            if not _in(paragraph, new):
                return question[: match.start()] + new + question[match.end():]
    return ""


def _add_year(question: str, paragraph: str, others: Sequence[str], language: str) -> str:
    years = [y for y in range(1731, 2031, 37) if str(y) not in paragraph]
    if not years or _NUMBER.search(question):
        return ""
    year = years[int(hashlib.sha256(question.encode()).hexdigest(), 16) % len(years)]
    bare = question.rstrip(" ?؟")
    return f"{bare} في عام {year}؟" if language == "ar" else f"{bare} in {year}?"

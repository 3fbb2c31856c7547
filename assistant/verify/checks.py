"""Sentence-level verification of an LLM answer against the numbered sources it was given. Pure.

Every sentence of the answer (``. ! ? ؟ ؛`` and newlines end one) is checked against the passages it
cites. It is supported only when all of these hold:

- similarity: the multilingual embedding of the sentence is close enough to the best-matching piece
  of a cited passage (its sentences, ``،`` clauses and 12-word windows: a short claim matches a
  clause of a long news sentence far better than the sentence), with one calibrated threshold for
  same-language pairs and one for cross-language pairs;
- the citation is the right one: no other source that could itself support the sentence (one
  holding its facts and words) matches it clearly better (``max_gap``);
- facts: every number (digits in any script, Arabic and English number words, "dozens"), weekday,
  month and proper noun of the sentence appears in the cited passages. Proper nouns are capitalised
  Latin words and, in Arabic, words in quotes; a Latin name matches an Arabic passage through its
  consonant skeleton (Mazloum ~ مظلوم) or a small glossary (SDF ~ قسد);
- in a same-language pair, at least half of its content words are in the cited passages, and all
  the words after the copula of an Arabic identity sentence ("… هو أحمد خليل"); a sentence that
  copies its passage (most of its words in runs of four or more of the passage's) adds no content
  word beyond the passage's, the question's and a few framing words: having reworded nothing, a
  word of its own is an insertion (an invented lead-in, a garbled name); across languages, every
  event it claims from a small lexicon (executed, surrendered, wounded …) is named there;
- polarity: negated exactly when the matching piece is ("failed to", "لم"), and no success claimed
  where the source reports failure;
- binding: each number counts what the passage says it counts (84 fighters, not 84 civilians);
- the reader's answer (when the trained reader answered the same question over the same passages,
  :class:`ReaderAnswer`): the reader prefers an answer to none, and the sentence states the answer it
  found (its numbers, days and months, or most of its words). Every check above shows that a
  sentence's words come from a passage; only this one shows that the sentence answers the question
  with what the passage says answers it, rather than relating true words wrongly ("the prisoners
  were guarded by the staff" where they took the staff hostage).

A question that names what no passage names ("how many American soldiers …" over passages that
never mention Americans) has no answer in them: every sentence is unsupported, however well its
number or words fit the rest of the question.

``[n]`` with no such source is removed. A sentence without a marker gets the most similar passage
when it passes every check with a stricter threshold (citation repair); otherwise it is unsupported.
Unsupported sentences are dropped, or kept with a mark (``mode="mark"``).

Only the embedding function is passed in, so everything here runs on plain data.
"""


from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..config import VerifySettings
from ..text.normalize import (
    Span,
    detect_language,
    split_sentences,
)
from ..types import EmbedFn
from .answers import answers_question
from .claims import Claim, ReaderAnswer, Source, Verdict
from .facts import (
    ClaimFacts,
    PassageFacts,
    absent_names,
    identity_complement,
    identity_head,
    missing_facts,
    numbers_of,
)
from .wording import (
    _in_arabic,
    added_words,
    content_cores,
    content_coverage,
    copied_share,
    is_negated,
    missing_events,
    number_phrases,
    plain_words,
    question_counted_phrase,
    reports_failure,
    reports_success,
    support_units,
)

# -- verification ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Passage:
    source: Source
    facts: PassageFacts
    sentences: list[Span]
    units: list[Span]
    vectors: np.ndarray  # one row per unit
    numbers: list[tuple[frozenset[str], str]]
    number_vectors: np.ndarray
    tokens: frozenset[str]
    words: tuple[str, ...]


@dataclass(frozen=True)
class _Analysis:
    """Everything about a passage that depends on its text alone."""

    facts: PassageFacts
    sentences: tuple[Span, ...]
    units: tuple[Span, ...]
    numbers: tuple[tuple[frozenset[str], str], ...]
    tokens: frozenset[str]
    words: tuple[str, ...]


@lru_cache(maxsize=4096)
def _analyse(text: str, sentences: tuple[Span, ...]) -> _Analysis:
    """The facts, pieces and counted numbers of a passage; remembered, as passages come back
    question after question."""
    spans = tuple(sentences) or tuple(split_sentences(text)) or (Span(0, len(text), text),)
    return _Analysis(PassageFacts.of(text), spans, tuple(support_units(text, spans)), tuple(number_phrases(text)),
                     frozenset(content_cores(text)), plain_words(text))


def _prepare(sources: Sequence[Source], embed: EmbedFn) -> dict[int, _Passage]:
    """Units and vectors of every source, embedding in one call what is not known yet."""
    plans = []
    wanted: list[str] = []
    for source in sources:
        analysis = _analyse(source.text, tuple(source.sentences))
        known = source.vectors is not None and len(source.vectors) == len(analysis.sentences)
        skip = len(analysis.sentences) if known else 0
        plans.append((source, analysis, known))
        wanted += [u.text for u in analysis.units[skip:]] + [phrase for _, phrase in analysis.numbers]
    unique = list(dict.fromkeys(wanted))
    matrix = embed(unique) if unique else np.zeros((0, 1), np.float32)
    row_of = {text: row for row, text in enumerate(unique)}
    prepared = {}
    for source, analysis, known in plans:
        skip = len(analysis.sentences) if known else 0
        rows = [matrix[row_of[u.text]] for u in analysis.units[skip:]]
        vectors = np.vstack([source.vectors] + ([np.stack(rows)] if rows else [])) if known else np.stack(rows)
        numbers = list(analysis.numbers)
        number_vectors = np.stack([matrix[row_of[phrase]] for _, phrase in numbers]) if numbers else np.zeros((0, 1))
        prepared[source.number] = _Passage(source, analysis.facts, list(analysis.sentences), list(analysis.units),
                                           vectors.astype(np.float32), numbers, number_vectors, analysis.tokens,
                                           analysis.words)
    return prepared


@dataclass(frozen=True)
class _Question:
    """What the checks read in the question: what a "how many" question counts (glossary acronyms
    in Arabic), and its content words, which an answer may give back without its passage having them."""

    counted: str = ""
    words: frozenset[str] = frozenset()

    @classmethod
    def of(cls, text: str) -> _Question:
        """Read a question (``""``: none)."""
        if not text:
            return cls()
        return cls(_in_arabic(question_counted_phrase(text)), frozenset(content_cores(text)))


def verify_claims(claims: Sequence[Claim], sources: Sequence[Source], embed: EmbedFn,
                  settings: VerifySettings, question: str = "", reader: ReaderAnswer | None = None) -> list[Verdict]:
    """Check each sentence against the passages it cites (or, uncited, against all of them).

    Args:
        claims: The answer's sentences (:func:`split_claims`).
        sources: The numbered passages the LLM was given.
        embed: Unit-length vectors for texts (the passage side of the embedder); pass a cached
            one, as the same passages come back across questions.
        settings: Thresholds and mode.
        question: The question answered: a bare number ("136") counts what it asks about, a copied
            passage may repeat its words, and a question naming what no source names has no answer.
        reader: The trained reader's answer to the question over the same passages; every sentence
            must state it (:func:`reader_reason`). ``None`` (no reader) leaves that check out.

    Returns:
        One verdict per claim, in order.
    """
    if not claims:
        return []
    absent = absent_names(question, [_analyse(s.text, tuple(s.sentences)).facts for s in sources]) if question else []
    if absent:
        # No sentence answers a question about what the sources never name, however well its
        # words fit the rest of the question ("136 people" for "how many American soldiers").
        reason = f"the question asks about {', '.join(f'«{name}»' for name in absent)}, which no source names"
        return [Verdict(claim, False, (), claim.cited, reason=reason) for claim in claims]
    passages = _prepare(sources, embed)
    asked = _Question.of(question)
    phrases = list(dict.fromkeys([_in_arabic(p) for c in claims for _, p in number_phrases(c.text)]
                                 + ([asked.counted] if asked.counted else [])))
    vectors = embed([c.text for c in claims] + phrases)  # one call: each costs a model pass
    known = dict(zip(phrases, vectors[len(claims):], strict=True))

    def phrase_vectors(texts: list[str]) -> np.ndarray:
        return np.stack([known[t] for t in texts])

    verdicts = [_verdict(claim, vector, passages, settings, phrase_vectors, asked)
                for claim, vector in zip(claims, vectors[:len(claims)], strict=True)]
    return [answers_question(v, question, reader, settings) for v in verdicts]


@dataclass(frozen=True)
class _Match:
    similarity: float
    unit: Span


def _best_unit(vector: np.ndarray, passage: _Passage) -> _Match:
    similarities = passage.vectors @ vector
    index = int(np.argmax(similarities))
    return _Match(float(similarities[index]), passage.units[index])


def _verdict(claim: Claim, vector: np.ndarray, passages: dict[int, _Passage], settings: VerifySettings,
             embed: EmbedFn, asked: _Question) -> Verdict:
    if not passages:
        return Verdict(claim, False, (), claim.cited, 0.0, reason="no sources")
    matches = {n: _best_unit(vector, p) for n, p in passages.items()}
    best_anywhere = max(m.similarity for m in matches.values())
    valid = [n for n in claim.cited if n in passages]
    invalid = tuple(n for n in claim.cited if n not in passages)
    if not valid:
        return _repair(claim, matches, best_anywhere, passages, settings, embed, invalid, asked)
    number = max(valid, key=lambda n: matches[n].similarity)
    similarity = matches[number].similarity
    gap = round(best_anywhere - similarity, 6)
    reason = _unsupported_reason(claim, valid, number, matches, best_anywhere, passages, settings, False, embed,
                                 asked)
    if reason:
        return Verdict(claim, False, (), invalid + tuple(valid), similarity, reason=reason, gap=gap)
    facts = ClaimFacts.of(claim.text)
    kept = tuple(n for n in valid if n == number or _contributes(n, matches[n].similarity, claim, facts, passages,
                                                                    settings))
    dropped = invalid + tuple(n for n in valid if n not in kept)
    quotes = {n: _quote(passages[n], matches[n].unit) for n in kept}
    return Verdict(claim, True, kept, dropped, similarity, quotes, gap=gap)


def _repair(claim: Claim, matches: dict[int, _Match], best_anywhere: float, passages: dict[int, _Passage],
            settings: VerifySettings, embed: EmbedFn, invalid: tuple[int, ...], asked: _Question) -> Verdict:
    """An uncited sentence (or one whose markers name no source) gets the most similar passage that
    passes every check with the stricter repair threshold; otherwise it is unsupported."""
    ranked = sorted(matches, key=lambda n: -matches[n].similarity)
    reason = ""
    for number in ranked:
        reason = _unsupported_reason(claim, [number], number, matches, best_anywhere, passages, settings, True,
                                     embed, asked)
        if not reason:
            quote = _quote(passages[number], matches[number].unit)
            return Verdict(claim, True, (number,), invalid, matches[number].similarity, {number: quote},
                           repaired=True, gap=round(best_anywhere - matches[number].similarity, 6))
        if reason.startswith(("similarity", "another source")):
            break  # the rest are less similar still
    first = ranked[0]
    return Verdict(claim, False, (), invalid, matches[first].similarity, reason=f"uncited; best source [{first}]: "
                   + _unsupported_reason(claim, [first], first, matches, best_anywhere, passages, settings, True,
                                         embed, asked), gap=0.0)


def _unsupported_reason(claim: Claim, cited: list[int], number: int, matches: dict[int, _Match],
                        best_anywhere: float, passages: dict[int, _Passage], settings: VerifySettings,
                        repaired: bool, embed: EmbedFn, asked: _Question) -> str:
    """Why the cited passages do not support the sentence, or ``""`` when they do. Cheapest checks first."""
    language = detect_language(claim.text)
    passage = passages[number]
    similarity = matches[number].similarity
    needed = settings.threshold(language, passage.facts.language) + (settings.repair_margin if repaired else 0.0)
    if similarity < needed:
        return f"similarity {similarity:.3f} to source [{number}] is below {needed:.3f}"
    if similarity < best_anywhere - settings.max_gap:
        # Only a source that could itself support the sentence makes the citation wrong: one that
        # is closer in wording but lacks its facts or words is not a better source.
        rivals = [n for n in passages if n not in cited and matches[n].similarity > similarity + settings.max_gap]
        for rival in sorted(rivals, key=lambda n: -matches[n].similarity):
            if not _content_reason(claim, language, [rival], rival, matches, passages, settings, embed, asked):
                return (f"another source supports it better than [{number}] "
                        f"([{rival}]: {matches[rival].similarity:.3f} vs {similarity:.3f})")
    return _content_reason(claim, language, cited, number, matches, passages, settings, embed, asked)


def _content_reason(claim: Claim, language: str, cited_numbers: list[int], number: int, matches: dict[int, _Match],
                    passages: dict[int, _Passage], settings: VerifySettings, embed: EmbedFn, asked: _Question
                    ) -> str:
    """The checks beyond similarity: facts, words (or events, across languages), negation, outcome, binding."""
    passage = passages[number]
    cited = [passages[n] for n in cited_numbers]
    missing = missing_facts(ClaimFacts.of(claim.text), [p.facts for p in cited], [p.facts for p in passages.values()])
    if missing:
        return f"{', '.join(missing)} not in the cited source{'s' if len(cited) > 1 else ''}"
    if language == passage.facts.language:
        tokens = frozenset().union(*(p.tokens for p in cited))
        coverage = content_coverage(claim.text, tokens)
        if coverage < settings.min_coverage:
            return f"only {coverage:.0%} of its words are in the cited source"
        complement = identity_complement(claim.text)
        if complement and content_coverage(complement, tokens) < 1.0:
            return f"«{complement}» not in the cited source{'s' if len(cited) > 1 else ''}"
        head = identity_head(claim.text)
        if head and content_coverage(head, tokens) < 1.0:
            return f"«{head}», what it identifies, is not in the cited source{'s' if len(cited) > 1 else ''}"
        if copied_share(claim.text, [p.words for p in cited]) >= settings.min_copied_share:
            # A copy has reworded nothing, so a word of its own is no paraphrase: it is an insertion
            # (an invented lead-in, a garbled name) that the similarity of the copied rest hides.
            added = added_words(claim.text, tokens | asked.words)
            if added:
                return (f"it copies the cited source{'s' if len(cited) > 1 else ''} but adds "
                        f"{', '.join(f'«{word}»' for word in added)}")
    else:
        absent = missing_events(claim.text, [p.facts.folded for p in cited])
        if absent:
            return f"{', '.join(absent)} not in the cited source{'s' if len(cited) > 1 else ''}"
    if is_negated(claim.text) != is_negated(matches[number].unit.text):
        return f"negation differs from source [{number}]: «{matches[number].unit.text}»"
    if _contradicts_outcome(claim.text, matches[number].unit, passage):
        return f"it reports success where source [{number}] reports failure"
    return _unbound_number(claim.text, passage, embed, settings, asked.counted)


def _unbound_number(text: str, passage: _Passage, embed: EmbedFn, settings: VerifySettings, asked: str) -> str:
    """A number of the claim that its passage attaches to something else: "84 civilians" when the
    passage says 84 fighters and seven civilians, or "800 vehicles" when its 800 are fighters.
    Compares what the number counts in the claim (for a bare number, what the question ``asked``
    counts) with what each number counts in the passage; flags it when another number's fits
    clearly better (``binding_margin``) or its own fits too little (``binding_floor``)."""
    if not passage.numbers:
        return ""
    claimed = [(found, _in_arabic(phrase)) for found, phrase in number_phrases(text)]
    numbers = numbers_of(text)
    bare = numbers - {n for found, _ in claimed for n in found}
    if bare and asked:
        claimed.append((frozenset(bare), asked))
    elif asked and len(numbers) == 1:
        # The one number of the answer to "how many X" is read as a count of X ("136 people" answering
        # "how many civilians"): it must be the number the passage gives for X, not one near it.
        claimed.append((frozenset(numbers), asked))
    if not claimed:
        return ""
    several = len({n for found, _ in passage.numbers for n in found}) >= 2
    vectors = embed([phrase for _, phrase in claimed])
    for (found, phrase), vector in zip(claimed, vectors, strict=True):
        similarities = passage.number_vectors @ vector
        own = [(float(s), counted) for (numbers, counted), s in zip(passage.numbers, similarities, strict=True)
               if numbers & found]
        if not own:
            continue
        best = int(np.argmax(similarities))
        closest, counted = max(own)
        if several and float(similarities[best]) - closest > settings.binding_margin:
            return (f"its {', '.join(sorted(found))} {phrase!r} matches «{passage.numbers[best][1]}» "
                    f"({', '.join(sorted(passage.numbers[best][0]))}) in the source better")
        if closest < settings.binding_floor:
            return (f"its {', '.join(sorted(found))} {phrase!r} is not what the source counts with it "
                    f"(«{counted}», similarity {closest:.3f} < {settings.binding_floor})")
    return ""


def _contradicts_outcome(text: str, unit: Span, passage: _Passage) -> bool:
    """A sentence of success against a source sentence of failure ("stormed the prison" / "فشلت في الاقتحام")."""
    if not reports_success(text) or reports_failure(text):
        return False
    sentence = next((s for s in passage.sentences if s.start <= unit.start < s.end), unit)
    return reports_failure(sentence.text) and not reports_success(sentence.text)


def _contributes(number: int, similarity: float, claim: Claim, facts: ClaimFacts, passages: dict[int, _Passage],
                 settings: VerifySettings) -> bool:
    """A further cited source stays when it supports the sentence by itself or holds one of its facts."""
    passage = passages[number].facts
    if similarity >= settings.threshold(detect_language(claim.text), passage.language):
        return True
    return bool(facts.numbers & passage.numbers or facts.days & passage.days
                or any(passage.has_latin_name(n) for n in facts.latin_names)
                or any(passage.has_arabic_name(n) for n in facts.arabic_names))


def _quote(passage: _Passage, unit: Span) -> Span:
    """The sentence holding the best-matching unit, in source offsets."""
    sentence = next((s for s in passage.sentences if s.start <= unit.start < s.end), unit)
    start = passage.source.start
    return Span(start + sentence.start, start + sentence.end, sentence.text)

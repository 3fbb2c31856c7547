"""The LLM answer path: prompt, streamed call, sentence verification, fallback to the extractive answer.

The assistant calls this only after the extractive answerer found support in the retrieved
passages: when retrieval finds nothing relevant the LLM is never called (llama-index's
CondensePlusContext engine would call it with an empty context). Every failure of the LLM ends in
the extractive answer, preceded by one line in the question's language saying what went wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ..config import Settings
from ..ingest.chunking import chunk_sentences, sentence_id
from ..llm.backends import LLMTarget, build_llm, complete_reply, llm_target, stream_reply
from ..llm.failure import LLMFailure
from ..models.embeddings import VectorCache
from ..text.normalize import Span, detect_language, normalize_arabic
from ..types import Answer, AnswerStream, Citation, EmbedFn, Hit, SentenceVectorsFn
from ..verify import (
    MARKER,
    Claim,
    Composed,
    ReaderAnswer,
    Source,
    Verdict,
    VerifySettings,
    compose,
    split_claims,
    verify_claims,
)
from .analysis import asked_source, speaker_of
from .prompts.loader import load_citation_qa, load_condense, load_extractive

if TYPE_CHECKING:
    from llama_index.core.llms import LLM, ChatMessage


_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_LEAD_IN = re.compile(r"^\s*(?:answer|الإجابة|الاجابة|الجواب)\s*[:：]\s*", re.IGNORECASE)


# -- prompt ---------------------------------------------------------------------------------------

def as_data(text: str) -> str:
    """Passage text made safe to place between ``<source>`` tags: tags inside it are defused."""
    return re.sub(r"<(/?)(sources?)\b", r"‹\1\2", text, flags=re.IGNORECASE)


def build_messages(question: str, language: str, hits: Sequence[Hit], prompts: dict[str, dict[str, str]],
                   refusal: str) -> list[ChatMessage]:
    """The chat messages: the system rules, then the numbered sources (as data) and the question.

    Args:
        question: What to answer (a follow-up already made standalone).
        language: ``ar`` or ``en``: the rules and the reply are in it.
        hits: The retrieved passages, numbered [1..k] in this order.
        prompts: :func:`assistant.answer.prompts.loader.load_citation_qa` output.
        refusal: The fixed not-found sentence for the language.
    """
    from llama_index.core.llms import ChatMessage, MessageRole

    wording = prompts[language]
    sources = "\n".join(
        wording["source"].format(n=n, title=as_data(hit.title or hit.source).replace('"', "'"), text=as_data(hit.text))
        for n, hit in enumerate(hits, start=1)
    )
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=wording["system"].format(refusal=refusal)),
        ChatMessage(role=MessageRole.USER, content=wording["user"].format(sources=sources, question=question)),
    ]


def clean_reply(text: str) -> str:
    """The reply without reasoning blocks (``<think>…</think>``), a leading "Answer:" or outer space."""
    return _LEAD_IN.sub("", _THINK.sub("", text)).strip()


def without_repeats(claims: Sequence[Claim]) -> tuple[list[Claim], float]:
    """The claims, each sentence once (the first time it is written, markers and punctuation
    ignored), and the share of them that repeated an earlier one (0 for fewer than three).

    Small models degenerate into loops ("answer: 136 [1]" a dozen times); a reply that is mostly
    repeats is malformed, not an answer to verify sentence by sentence. Pure.
    """
    seen: set[str] = set()
    kept = []
    for claim in claims:
        key = _fold(claim.text)
        if key and key not in seen:
            seen.add(key)
            kept.append(claim)
    written = [c for c in claims if _fold(c.text)]
    share = 1 - len(kept) / len(written) if len(written) >= 3 else 0.0
    return kept, share


#: A sentence saying the sources do not give the answer, in the LLM's own words ("X is not mentioned
#: in the given sources", "لم تذكر المصادر …").
_NOT_IN_SOURCES = re.compile(
    r"\b(?:(?:is|are|was|were) not (?:mentioned|stated|given|specified|provided|available)|"
    r"(?:do|does) not (?:mention|say|state|specify|provide|contain)|no (?:information|mention))\b"
    r".*\b(?:sources?|documents?|passages?|texts?|context)\b|"
    r"(?:لم|لا) ?(?:ت|ي)?(?:ذكر|رد|تضمن|حدد)\w*.*(?:المصادر|المصدر|المستندات|النص)|"
    r"لا (?:توجد|تتوفر) معلومات", re.IGNORECASE)


def is_refusal(text: str, refusals: Sequence[str]) -> bool:
    """True when the reply is the fixed not-found sentence (of either language), give or take
    punctuation, or says only, in its own words, that the sources do not give the answer."""
    folded = _fold(MARKER.sub("", text))
    if any(folded == _fold(r) or (_fold(r) in folded and len(folded) < len(_fold(r)) * 1.5) for r in refusals):
        return True
    claims = split_claims(text)
    return bool(claims) and all(_NOT_IN_SOURCES.search(normalize_arabic(c.text)) for c in claims)


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", normalize_arabic(text)).split())


# -- sources and citations --------------------------------------------------------------------------

def sources_from_hits(hits: Sequence[Hit], sentence_vectors: SentenceVectorsFn | None = None) -> list[Source]:
    """Number the hits [1..k], with the sentences the index embedded (and their vectors when known).

    The vectors of every hit's sentences are asked for in one call (one lookup in the index).
    """
    spans = [chunk_sentences(hit) for hit in hits]
    vectors: np.ndarray | None = None
    if sentence_vectors is not None and any(spans):
        ids = [sentence_id(hit.chunk_id, i) for hit, own in zip(hits, spans, strict=True) for i in range(len(own))]
        vectors = np.asarray(sentence_vectors(ids, [s.text for own in spans for s in own])[0])
    sources = []
    row = 0
    for n, (hit, own) in enumerate(zip(hits, spans, strict=True), start=1):
        relative = tuple(Span(s.start - hit.start, s.end - hit.start, s.text) for s in own)
        rows = vectors[row:row + len(own)] if vectors is not None and own else None
        row += len(own)
        sources.append(Source(n, hit.text, hit.start, relative, rows))
    return sources


def citations_for(composed: Composed, hits: Sequence[Hit], verdicts: Sequence[Verdict]) -> list[Citation]:
    """One citation per number used in the composed text, in its new order."""
    best: dict[int, float] = {}
    for verdict in verdicts:
        for number in verdict.citations if verdict.supported else ():
            best[number] = max(best.get(number, 0.0), verdict.similarity)
    citations = []
    for new, original in enumerate(composed.order, start=1):
        hit = hits[original - 1]
        quote = composed.quotes[original]
        citations.append(Citation.of(new, hit, round(best.get(original, 0.0), 4), quote=quote.text,
                                     quote_start=quote.start, quote_end=quote.end))
    return citations


def reader_answer(extractive: Answer, question: str = "") -> ReaderAnswer | None:
    """What the trained reader answered, from the extractive answer it wrote: the span of each
    citation (one, or one per source when they disagree, with who gives it and whose figure
    ``question`` asks for) and its margin; ``None`` without a reader."""
    if extractive.reader_margin is None or extractive.outcome != "answer":
        return None  # no reader, or its short answer was withheld: nothing of it to hold the LLM to
    spans = [(c.text[c.span_start - c.start:c.span_end - c.start], c.quote) for c in extractive.citations
             if c.span_end > c.span_start]
    if not spans and extractive.span is not None:
        spans = [(extractive.span.text, "")]
    quotes: dict[str, str] = {}
    for value, quote in spans:
        if value.strip():
            quotes.setdefault(value, quote)
    speakers = tuple(speaker_of(quote) for quote in quotes.values()) if len(quotes) > 1 else ()
    return ReaderAnswer(tuple(quotes), extractive.reader_margin, speakers, asked_source(question) if speakers else "")


def verification_notes(verdicts: Sequence[Verdict], sources: int, mode: str) -> list[str]:
    """What verification changed, one line each: dropped (or marked) sentences, removed and added markers."""
    notes = []
    for verdict in verdicts:
        sentence = verdict.claim.text
        if not verdict.supported:
            notes.append(f"{'marked' if mode == 'mark' else 'dropped'}: «{sentence}» — {verdict.reason}")
            continue
        for number in verdict.removed:
            why = f"there are only {sources} sources" if number > sources or number < 1 else "it does not support it"
            notes.append(f"removed [{number}] from «{sentence}»: {why}")
        if verdict.repaired:
            notes.append(f"cited: «{sentence}» had no marker; source [{verdict.citations[0]}] supports it "
                         f"(similarity {verdict.similarity:.3f})")
    return notes


# -- the answerer -----------------------------------------------------------------------------------

class LLMAnswerer:
    """Answers from the retrieved passages with an LLM, keeping only sentences their sources support.

    Args:
        llm: Any llama-index LLM (``assistant.llm.backends.build_llm``, or a scripted fake in tests).
        prompts: :func:`assistant.answer.prompts.loader.load_citation_qa` output.
        refusals: The fixed not-found sentence per language (``load_extractive()[lang]["refusal"]``).
        embed: Unit passage vectors for the answer's sentences.
        verify: Thresholds and the drop/mark mode.
        target: Where the LLM runs (for messages) and the timeout.
        sentence_vectors: Stored vectors of the passages' sentences; embedded with ``embed`` when omitted.
        condense_prompts: :func:`assistant.answer.prompts.loader.load_condense` output, for follow-ups.
    """

    def __init__(self, llm: LLM, prompts: dict[str, dict[str, str]], refusals: dict[str, str], embed: EmbedFn,
                 verify: VerifySettings, target: LLMTarget, sentence_vectors: SentenceVectorsFn | None = None,
                 condense_prompts: dict[str, dict[str, str]] | None = None) -> None:
        self.llm = llm
        self._prompts = prompts
        self._refusals = refusals
        self.vectors = embed if isinstance(embed, VectorCache) else VectorCache(embed)
        self.verify = verify
        self._target = target
        self._sentence_vectors = sentence_vectors
        self._condense_prompts = condense_prompts

    @classmethod
    def from_settings(cls, settings: Settings, embed: EmbedFn, sentence_vectors: SentenceVectorsFn | None = None,
                      llm: LLM | None = None) -> LLMAnswerer | None:
        """The answerer ``settings.llm`` asks for (or around ``llm`` when given); ``None`` for ``extractive``.

        Raises:
            ConfigError: ``settings.llm`` is invalid or its backend cannot be built.
        """
        llm = llm if llm is not None else build_llm(settings)
        if llm is None:
            return None
        verify = settings.verification
        refusals = {language: wording["refusal"] for language, wording in load_extractive().items()}
        target = llm_target(settings)
        if not target.where:  # an LLM passed in: describe it by what it says about itself
            model = str(getattr(llm.metadata, "model_name", "") or type(llm).__name__)
            target = replace(target, where=type(llm).__name__, model=model)
        return cls(llm, load_citation_qa(), refusals, embed, verify, target, sentence_vectors, load_condense())

    def stream(self, question: str, language: str, hits: Sequence[Hit], extractive: Answer) -> AnswerStream:
        """The reply's text as it arrives, then the verified :class:`Answer` (``.answer()``).

        Args:
            question: What the LLM answers (a follow-up already made standalone).
            language: The reply language (the user's question's).
            hits: The retrieved passages; they become sources [1..k].
            extractive: The grounded extractive answer: the fallback, and the source of the
                question, support and retrieved ids recorded on the result.
        """
        return AnswerStream(self._events(question, language, hits, extractive))

    def _events(self, question: str, language: str, hits: Sequence[Hit], extractive: Answer) -> Iterator[str | Answer]:
        messages = build_messages(question, language, hits, self._prompts, self._refusals[language])
        parts: list[str] = []
        try:
            for delta in stream_reply(self.llm, messages, self._target.timeout, self._target.secret):
                parts.append(delta)
                yield delta
        except LLMFailure as failure:
            yield self.fallback(extractive, language, failure.kind, failure.status, failure.detail)
            return
        yield self.finish("".join(parts), language, hits, extractive, question)

    def answer(self, question: str, language: str, hits: Sequence[Hit], extractive: Answer) -> Answer:
        """The verified answer (see :meth:`stream`), without the draft."""
        return self.stream(question, language, hits, extractive).answer()

    def finish(self, reply: str, language: str, hits: Sequence[Hit], extractive: Answer, question: str = "") -> Answer:
        """Verify a complete reply and write the answer; the extractive one when nothing survives.

        ``question`` is what the LLM was asked (``extractive.question`` when omitted): a bare number
        in the reply is checked against what it asks to count.
        """
        text = clean_reply(reply)
        if not text:
            return self.fallback(extractive, language, "empty", None, "the reply had no text")
        claims, repeated = without_repeats(split_claims(text))
        if repeated > 0.5:
            return self.fallback(extractive, language, "malformed", None, "the reply repeats itself")
        if is_refusal(text, list(self._refusals.values())):
            return replace(extractive, text=self._refusals[language], grounded=False, citations=[], mode="llm",
                           outcome="refusal", notes=["the LLM found no answer in the sources"])
        sources = sources_from_hits(hits, self._sentence_vectors)
        asked = question or extractive.question
        verdicts = verify_claims(claims, sources, self.vectors, self.verify, asked, reader_answer(extractive, asked))
        if not any(v.supported for v in verdicts):
            notes = verification_notes(verdicts, len(sources), "drop")
            return self.fallback(extractive, language, "unverified", None, "no sentence was supported", notes)
        composed = compose(verdicts, self.verify.mode, self._prompts[language]["unverified"])
        return replace(extractive, text=composed.text, grounded=True, citations=citations_for(composed, hits, verdicts),
                       mode="llm", outcome="answer", notes=verification_notes(verdicts, len(sources), self.verify.mode))

    def fallback(self, extractive: Answer, language: str, kind: str, status: int | None, detail: str,
                 notes: Sequence[str] = ()) -> Answer:
        """The extractive answer, after one line in the question's language saying why the LLM's is not used."""
        message = self._prompts[language]["messages"][kind].format(
            where=self._target.where, model=self._target.model, status=status or "?",
            timeout=f"{self._target.timeout:g}", detail=detail,
        )
        reason = self._prompts["en"]["fallback_note"].format(reason=f"{kind}{f' (HTTP {status})' if status else ''}"
                                                                    f"{f': {detail}' if detail else ''}")
        return replace(extractive, text=f"{message}\n\n{extractive.text}", mode="extractive",
                       notes=[message, reason, *notes, *extractive.notes])

    # -- follow-ups ---------------------------------------------------------------------------------

    def condense(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """A standalone version of a follow-up, in the follow-up's language; ``""`` when it cannot be had.

        Args:
            question: The follow-up.
            history: Earlier ``(question, answer text)`` pairs, oldest first.
        """
        if not history or not self._condense_prompts:
            return ""
        language = detect_language(question)
        wording = self._condense_prompts[language]
        lines = []
        for asked, answered in list(history)[-3:]:
            lines += [f"- {asked}", f"  → {' '.join(MARKER.sub('', answered).split())[:300]}"]
        from llama_index.core.llms import ChatMessage, MessageRole

        messages = [ChatMessage(role=MessageRole.SYSTEM, content=wording["system"]),
                    ChatMessage(role=MessageRole.USER, content=wording["user"].format(history="\n".join(lines),
                                                                                      question=question))]
        try:
            reply = complete_reply(self.llm, messages, self._target.timeout, self._target.secret)
        except LLMFailure:
            return ""
        return standalone_question(reply, language)


def standalone_question(reply: str, language: str) -> str:
    """The first line of a condense reply, or ``""`` when it is empty, too long or in another language."""
    lines = [line.strip(" \"'«»`*-") for line in clean_reply(reply).splitlines() if line.strip()]
    if not lines:
        return ""
    text = re.sub(r"^(?:standalone question|السؤال المستقل)[^:：]*[:：]\s*", "", lines[0], flags=re.IGNORECASE)
    if not text or len(text) > 500 or detect_language(text) != language:
        return ""
    return text

"""HTML for the web UI: answers, questions, the sources panel and the document list (pure);
and the few words the command line prints around a streamed answer.

Every piece of document or answer text goes through :func:`html.escape` here and nowhere
else builds markup from it, so what a reader sees is literally what the index holds.

Direction is decided per element, never for the whole page: an answer block takes the
direction of its language, each line inside it takes ``dir="auto"`` when it has letters of
its own outside quotes, and every «quote» is bidi-isolated, so a ``[n]`` after it stays in
order; a quote against the answer's direction (Arabic in an English answer) gets a block of
its own. Passages take ``dir="auto"`` too.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from html import escape
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from ..eval.reports import figure_label
from ..types import Answer, Citation, file_name

if TYPE_CHECKING:
    from ..api import DocumentInfo
    from ..eval.scoring import Record

_MARKER = re.compile(r"\[(\d+)\]")
#: A bidi-isolated run (U+2068 … U+2069), as a short answer carries its Arabic in an English line.
_ISOLATE = re.compile("\u2068([^\u2069]*)(?:\u2069|$)")
_QUOTE = re.compile(r"«[^»]*(?:»|$)")
_TRAILING_MARKERS = re.compile(r"(?:\s*\[\d+\])+")
_HASH_NAME = re.compile(r"^[0-9a-f]{64}$")

_LABELS = {
    "en": {"sources": "Sources", "page": "p.", "paragraph": "paragraph", "none": "No passage supports an answer.",
           "refusal": "Not found in the documents", "closest": "No direct answer: the closest passage",
           "verified": "Verified answer (replaces the draft above):",
           "discarded": "Draft discarded:"},
    "ar": {"sources": "المصادر", "page": "ص", "paragraph": "الفقرة", "none": "لا توجد فقرة تدعم إجابة.",
           "refusal": "لا إجابة في المستندات", "closest": "لا إجابة مباشرة: أقرب مقطع",
           "verified": "الإجابة بعد التحقق (تحلّ محلّ المسودة أعلاه):",
           "discarded": "أُهملت المسودة:"},
}

EMPTY_SOURCES = (
    '<div class="sources empty"><p dir="auto">Each answer’s passages appear here, '
    'the supporting sentence highlighted.</p><p dir="auto">تظهر هنا فقرات كل إجابة '
    'مع تظليل الجملة الداعمة.</p></div>'
)
PENDING = '<div class="answer pending" aria-busy="true"><span class="dots">…</span></div>'


def text_direction(language: str) -> str:
    """``"rtl"`` for Arabic, ``"ltr"`` for anything else."""
    return "rtl" if language == "ar" else "ltr"


def _labels(language: str) -> dict[str, str]:
    return _LABELS.get(language, _LABELS["en"])


def first_strong_direction(text: str) -> str | None:
    """``"rtl"``/``"ltr"`` from the first strong letter, as ``dir="auto"`` decides; ``None`` without one."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return None


def source_id(turn: int, number: int) -> str:
    """The element id of citation ``number`` of the ``turn``-th answer (both from 1)."""
    return f"src-{turn}-{number}"


def _link_markers(text: str, citations: dict[int, Citation], turn: int) -> str:
    """Escaped text with each ``[n]`` of a real citation turned into a link to its passage."""
    out: list[str] = []
    last = 0
    for match in _MARKER.finditer(text):
        citation = citations.get(int(match.group(1)))
        if citation is None:
            continue  # a bracketed number that is not one of ours stays text
        out.append(escape(text[last:match.start()]))
        out.append(
            f'<a class="cite" dir="ltr" href="#{source_id(turn, citation.number)}" '
            f'title="{escape(citation.quote or citation.text)}">[{citation.number}]</a>'
        )
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def _render_line(line: str, citations: dict[int, Citation], turn: int, direction: str) -> tuple[str, str]:
    """``(dir attribute, inner HTML)`` of one line of an answer whose direction is ``direction``.

    A bidi-isolated run (the Arabic beside an English short answer) becomes a ``<bdi>`` in the line,
    never a block of its own: "7 («سبعة») — the document says:" stays one line.
    """
    parts: list[str] = []
    outside: list[str] = []
    last = 0
    for match in _ISOLATE.finditer(line):
        inner, text = _render_quotes(line[last:match.start()], citations, turn, direction)
        parts.append(inner)
        outside.append(text)
        parts.append(f'<bdi class="original">{escape(match.group(1))}</bdi>')
        last = match.end()
    inner, text = _render_quotes(line[last:], citations, turn, direction)
    parts.append(inner)
    outside.append(text)
    # A line such as "7 — «…» [1]" has no letters of its own: it keeps the answer's direction
    # instead of taking the quote's.
    return (' dir="auto"' if first_strong_direction("".join(outside)) else ""), "".join(parts)


def _render_quotes(line: str, citations: dict[int, Citation], turn: int, direction: str) -> tuple[str, str]:
    """``(inner HTML, the text outside quotes)`` of a piece of a line."""
    # Markers are only looked for outside «quotes»: a quoted passage may carry its own "[1]".
    parts: list[str] = []
    outside: list[str] = []
    last = 0
    for match in _QUOTE.finditer(line):
        between = line[last:match.start()]
        outside.append(between)
        parts.append(_link_markers(between, citations, turn))
        quoted = escape(match.group())
        last = match.end()
        quote_direction = first_strong_direction(match.group()) or direction
        if quote_direction == direction:
            parts.append(f'<span class="quote">{quoted}</span>')
            continue
        # A quote against the answer's direction (Arabic in an English answer) reads best as its
        # own block, with its markers: wrapped inline, its lines would interleave with the lead-in.
        trailing = _TRAILING_MARKERS.match(line, last)
        markers = _link_markers(trailing.group(), citations, turn) if trailing else ""
        last = trailing.end() if trailing else last
        parts.append(f'<span class="quote block" dir="{quote_direction}">{quoted}{markers}</span>')
    outside.append(line[last:])
    parts.append(_link_markers(line[last:], citations, turn))
    return "".join(parts), "".join(outside)


def _facts_under(line: str, citations: dict[int, Citation], done: bool) -> str:
    """The key facts of the quotes a line cites (:attr:`Citation.facts`), each under its quote, once
    the answer is complete."""
    if not done:
        return ""
    numbers = dict.fromkeys(int(m.group(1)) for m in _MARKER.finditer(line))
    return "".join(f'<span class="facts" dir="ltr">[{n}] {escape(citations[n].facts)}</span>'
                   for n in numbers if n in citations and citations[n].facts)


def render_answer(answer: Answer, turn: int, *, upto: int | None = None) -> str:
    """An answer as a chat message, its ``[n]`` markers linked to the sources panel.

    Lines starting with ``- `` (the claims of a conflict) become a list.

    Args:
        answer: The answer to show.
        turn: Its position in the conversation, from 1; makes the link targets unique.
        upto: Show only ``answer.text[:upto]`` (while streaming); the whole text when ``None``.
    """
    text = answer.text if upto is None else answer.text[:upto]
    direction = text_direction(answer.language)
    citations = {c.number: c for c in answer.citations}
    blocks: list[str] = []
    items: list[str] = []
    for line in filter(str.strip, text.split("\n")):
        item = line.startswith("- ")
        attrs, inner = _render_line(line[2:] if item else line, citations, turn, direction)
        inner += _facts_under(line, citations, upto is None or upto >= len(answer.text))
        if item:
            items.append(f"<li{attrs}>{inner}</li>")
            continue
        if items:
            blocks.append(f"<ul>{''.join(items)}</ul>")
            items = []
        blocks.append(f"<p{attrs}>{inner}</p>")
    if items:
        blocks.append(f"<ul>{''.join(items)}</ul>")
    state = "grounded" if answer.grounded else ("closest" if answer.outcome == "closest" else "refusal")
    done = "" if upto is not None and upto < len(answer.text) else " done"
    badge = "" if answer.grounded else f'<span class="badge">{_labels(answer.language)[state]}</span>'
    return (f'<div class="answer {state}{done}" dir="{direction}" lang="{escape(answer.language)}">'
            f'{badge}{"".join(blocks)}</div>')


def render_draft(text: str) -> str:
    """An LLM's draft as it streams in, before verification: plain escaped text, marked as pending."""
    lines = "".join(f'<p dir="auto">{escape(line)}</p>' for line in text.split("\n") if line.strip())
    return f'<div class="answer draft pending" aria-busy="true">{lines}<span class="dots">…</span></div>'


def replaced_draft_heading(answer: Answer) -> str:
    """The line printed between a streamed draft and the final answer that replaces it, in the
    answer's language: "Verified answer …" for a verified LLM answer, "Draft discarded:" when the
    extractive answer follows instead."""
    return _labels(answer.language)["verified" if answer.mode == "llm" else "discarded"]


def render_question(question: str) -> str:
    """A reader's question as a chat message, in the direction of its own text."""
    lines = "".join(f'<p dir="auto">{escape(line)}</p>' for line in question.split("\n") if line.strip())
    return f'<div class="question">{lines}</div>'


def render_error(message: str) -> str:
    """An error message (``str`` of an ``AssistantError``) as a chat message."""
    return f'<div class="answer error done" dir="auto" role="alert"><p dir="auto">{escape(message)}</p></div>'


def stream_cuts(text: str, step: int) -> Iterator[int]:
    """Growing prefix lengths of ``text`` ending on word boundaries, about ``step`` characters apart.

    The last one is always ``len(text)``.
    """
    cut = 0
    while cut < len(text):
        cut = min(len(text), cut + step)
        while cut < len(text) and not text[cut].isspace():
            cut += 1
        yield cut


def display_name(source: str) -> str:
    """A short name for a document's source: its file name, a content-hash name shortened."""
    path = PurePosixPath(source)
    if _HASH_NAME.match(path.stem):
        return f"{path.stem[:10]}…{path.suffix}"
    return path.name or source


def passage_parts(citation: Citation) -> tuple[str, str, str]:
    """The passage split around its supporting sentence: ``(before, sentence, after)``.

    The quote offsets are in source-text coordinates; the passage starts at ``citation.start``.
    When they do not fall inside the passage the quote is searched for, and failing that
    nothing is highlighted.
    """
    text = citation.text
    begin, end = citation.quote_start - citation.start, citation.quote_end - citation.start
    if not (0 <= begin < end <= len(text)):
        found = text.find(citation.quote) if citation.quote else -1
        if found < 0:
            return text, "", ""
        begin, end = found, found + len(citation.quote)
    return text[:begin], text[begin:end], text[end:]


def sentence_parts(citation: Citation, sentence: str) -> tuple[str, str, str]:
    """The quoted sentence split around the reader's answer span: ``(before, span, after)``; the span
    is empty when the citation has none or it does not fall inside the sentence."""
    begin, end = citation.span_start - citation.quote_start, citation.span_end - citation.quote_start
    if citation.span_end <= citation.span_start or not (0 <= begin < end <= len(sentence)):
        return sentence, "", ""
    return sentence[:begin], sentence[begin:end], sentence[end:]


def _render_card(citation: Citation, turn: int, language: str, names: Mapping[str, str]) -> str:
    before, sentence, after = passage_parts(citation)
    lead, span, tail = sentence_parts(citation, sentence)
    inner = f'{escape(lead)}<strong class="span">{escape(span)}</strong>{escape(tail)}' if span else escape(sentence)
    mark = f"<mark>{inner}</mark>" if sentence else ""
    name = names.get(citation.source) or display_name(citation.source)
    labels = _labels(language)
    page = f' · {labels["page"]} {citation.page}' if citation.page else ""
    where = f'{escape(name)}{page} · {labels["paragraph"]} {citation.paragraph}'
    return (
        f'<li class="source" id="{source_id(turn, citation.number)}" '
        f'dir="{first_strong_direction(citation.text) or text_direction(language)}">'
        f'<div class="meta"><span class="num" dir="ltr">[{citation.number}]</span> '
        f'<span class="doc" dir="auto">{escape(citation.title or name)}</span> '
        f'<span class="where" dir="auto" title="{escape(citation.file)}">{where}</span></div>'
        f'<p class="passage" dir="auto">{escape(before)}{mark}{escape(after)}</p></li>'
    )


def render_sources(turns: Sequence[tuple[str, Answer]], names: Mapping[str, str] | None = None) -> str:
    """The sources panel: the passages of every answer, the latest open and first.

    Args:
        turns: ``(question, answer)`` pairs in conversation order; turn numbers count from 1.
        names: What to call each source (:func:`document_names`); its file name when left out.
    """
    if not turns:
        return EMPTY_SOURCES
    sections = []
    for turn in range(len(turns), 0, -1):
        question, answer = turns[turn - 1]
        labels = _labels(answer.language)
        cards = "".join(_render_card(c, turn, answer.language, names or {}) for c in answer.citations)
        body = f'<ol class="cards">{cards}</ol>' if cards else f'<p class="none" dir="auto">{labels["none"]}</p>'
        opened = " open" if turn == len(turns) else ""
        sections.append(
            f'<details class="turn" id="turn-{turn}"{opened}><summary dir="auto">'
            f'<span class="label">{labels["sources"]}</span> <span class="q" dir="auto">{escape(question)}</span>'
            f"</summary>{body}</details>"
        )
    return f'<div class="sources">{"".join(sections)}</div>'


def plural(count: int, noun: str, nouns: str = "") -> str:
    """``"1 document"``, ``"2 documents"`` (``nouns`` for an irregular plural)."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def document_names(documents: Sequence[DocumentInfo]) -> dict[str, str]:
    """What to call each document (by source): its file name, with the time it was indexed where
    two share a name (two uploads of different reports called report.txt), and the start of its
    folder's name as well should the times agree too."""
    names = {d.source: display_name(d.source) for d in documents}
    for rule in (_with_time, _with_folder):
        clashes = Counter(names.values())
        names = {d.source: rule(names[d.source], d) if clashes[names[d.source]] > 1 else names[d.source]
                 for d in documents}
    return names


def _with_time(name: str, document: DocumentInfo) -> str:
    when = time.localtime(document.indexed_at) if document.indexed_at else None
    return f"{name} ({time.strftime('%Y-%m-%d %H:%M', when) if when else 'date unknown'})"


def _with_folder(name: str, document: DocumentInfo) -> str:
    return f"{name[:-1]}, {PurePosixPath(document.source).parent.name[:8]})"


def render_documents(documents: Sequence[DocumentInfo]) -> str:
    """The indexed documents as a table with their chunk counts."""
    if not documents:
        return '<p class="doc-list empty">No documents are indexed yet.</p>'
    names = document_names(documents)
    rows = "".join(
        f'<tr><td dir="auto">{escape(d.title)}</td>'
        f'<td dir="auto" title="{escape(file_name(d.source))}">{escape(names[d.source])}</td>'
        f'<td class="n">{d.chunks}</td></tr>'
        for d in documents
    )
    total = sum(d.chunks for d in documents)
    return (f'<table class="doc-list"><thead><tr><th>Title</th><th>File</th><th>Chunks</th></tr></thead>'
            f'<tbody>{rows}</tbody><tfoot><tr><td colspan="2">{plural(len(documents), "document")}</td>'
            f'<td class="n">{total}</td></tr></tfoot></table>')


def render_notices(notices: Sequence[tuple[str, str]]) -> str:
    """Outcome lines of an upload or a removal, each ``(kind, message)`` with kind ``"ok"``, ``"refused"``
    or ``"ask"`` (a question awaiting the user's answer)."""
    items = "".join(f'<li class="{kind if kind in ("ok", "ask") else "refused"}" dir="auto">{escape(message)}</li>'
                    for kind, message in notices)
    return f'<ul class="notices">{items}</ul>' if items else ""


#: The figures the web chat's evaluation leads with, in order (their labels: :data:`assistant.eval.reports.FIGURES`).
EVAL_FIGURES = ("accuracy_ar", "accuracy_en", "citation_evidence_rate", "refusal_accuracy", "false_refusal_rate",
                "hit@1", "hit@5", "mrr@10", "latency_ms_p50", "latency_ms_p95")


def _verdict(record: Record) -> tuple[bool, str]:
    if not record.answerable:
        return (not record.grounded, "refused" if not record.grounded else "answered (should refuse)")
    if not record.grounded:
        return False, "refused (should answer)"
    if not record.correct:
        return False, "wrong answer"
    if not record.evidence_cited:
        return False, "right answer, evidence not cited"
    return True, "right, evidence cited"


def render_eval_summary(summary: Mapping[str, Any], records: Sequence[Record], excerpt: int = 160) -> str:
    """An evaluation as HTML: the headline figures, then every question, misses first. Escaped."""
    figures = "".join(
        f'<tr><td>{escape(figure_label(key))}</td><td class="n">{summary[key]:g}</td></tr>'
        for key in EVAL_FIGURES if isinstance(summary.get(key), (int, float))
    )
    rows = []
    judged = sorted(((record, *_verdict(record)) for record in records), key=lambda item: item[1])
    for record, ok, verdict in judged:
        answer = record.answer if len(record.answer) <= excerpt else record.answer[:excerpt].rstrip() + "…"
        rows.append(
            f'<tr class="{"hit" if ok else "miss"}"><td>{escape(record.id)}</td>'
            f'<td dir="auto">{escape(record.question)}</td><td>{"✓" if ok else "✗"} {escape(verdict)}</td>'
            f'<td dir="auto">{escape(answer)}</td><td class="n">{record.latency_ms:.0f}</td></tr>'
        )
    head = (f'<p>{summary.get("questions", len(records))} questions: {summary.get("answerable", 0)} answerable, '
            f'{summary.get("unanswerable", 0)} unanswerable.</p>')
    return (f'<div class="eval">{head}<table class="eval-summary"><tbody>{figures}</tbody></table>'
            f'<table class="eval-records"><thead><tr><th>id</th><th>Question</th><th>Verdict</th><th>Answer</th>'
            f'<th>ms</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')

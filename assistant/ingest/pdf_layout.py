"""Positioned glyphs of PDF pages -> text in reading order. Pure: :mod:`.pages` reads the file.

Browsers and Word print Arabic in *visual* order: each line's glyphs stand left to right as they are
seen, in presentation forms (U+FE70-FEFF), so a plain text extraction reads every right-to-left line
backwards. No installed library turns visual order back into logical order (python-bidi and the
Unicode algorithm only go the other way; pypdf keeps each word's letters in order but the words of a
line reversed, pdfminer reverses the letters, PDFium mixes both: docs/ingest.md), so it is done here:
glyphs are sorted by position, a right-to-left line is reversed as a whole, runs of Latin letters and
digits inside it are turned back, brackets are un-mirrored, and then presentation forms are folded
(NFKC) -- after the reversal, since one lam-alef glyph folds to two letters already in logical order.

The page's layout is read from positions too: lines are glyphs of one size on one baseline, columns
are separated by a gutter no line crosses (right-hand column first on an Arabic page), paragraphs
by a larger gap than the page's line spacing, and running headers, footers and page numbers are the
lines at the top or bottom of the page that repeat on other pages, that are a page number, that
are set smaller than the body, or that hold under three glyphs.
"""

from __future__ import annotations

import difflib
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

#: Share of the page height, at the top and at the bottom, where running headers and footers live.
FURNITURE_BAND = 0.1
#: Line spacing over the page's usual spacing that starts a new paragraph.
PARAGRAPH_GAP = 1.4
#: Narrowest column gutter, in units of the body font size (word spaces are about 0.25).
GUTTER_EM = 0.9

_BRACKET_MIRROR = str.maketrans("()[]{}<>«»‹›", ")(][}{><»«›‹")
#: Right-to-left letters (Hebrew, Arabic and their presentation forms; not the Arabic-Indic digits).
_RTL = re.compile(r"[\u0590-\u065f\u066a-\u06ef\u06fa-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
#: What stays left to right inside a right-to-left line: Latin letters and digits (Arabic-Indic too).
_LTR = re.compile(r"[A-Za-z\u00c0-\u024f0-9\u0660-\u0669\u06f0-\u06f9]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_PAGE_NUMBER = re.compile(
    r"^[-–—\s]*(?:(?:page|p\.|صفحة|الصفحة)\s*)?[0-9٠-٩]+(?:\s*(?:/|of|من)\s*[0-9٠-٩]+)?[-–—\s]*$", re.I)
#: "3/12" opening or closing a line: the page number of a browser's or a report's footer ("file:///... 1/2").
_PAGE_FRACTION = re.compile(r"(?:^|\s)[0-9٠-٩]+\s?/\s?[0-9٠-٩]+$|^[0-9٠-٩]+\s?/\s?[0-9٠-٩]+\s")
_SENTENCE_END = re.compile(r"[.!?؟:;؛\"»”)\]]\s*$")


@dataclass(frozen=True, slots=True)
class Glyph:
    """One drawn character: its text (one glyph may stand for several letters), horizontal extent,
    baseline and font size, in PDF points."""

    text: str
    x0: float
    x1: float
    y: float
    size: float

    @property
    def is_mark(self) -> bool:
        """A combining mark (Arabic harakat, shadda): drawn on its own over the letter it belongs to."""
        return bool(self.text) and all(unicodedata.combining(ch) for ch in self.text)


@dataclass
class _Line:
    y: float
    size: float
    glyphs: list[Glyph] = field(default_factory=list)

    @property
    def x0(self) -> float:
        return min(g.x0 for g in self.glyphs)

    @property
    def x1(self) -> float:
        return max(g.x1 for g in self.glyphs)


@dataclass(frozen=True)
class PageText:
    """A page's paragraphs in reading order; ``continues`` when its first one goes on from the page before."""

    paragraphs: list[str]
    continues: bool = False


def pages_text(pages: list[list[Glyph]], height: float) -> list[PageText]:
    """Read each page's glyphs as paragraphs in reading order, running headers and footers left out.

    Args:
        pages: Every page's glyphs, in any order.
        height: The page height in points (for the header and footer bands).
    """
    lines = [_group_lines(glyphs) for glyphs in pages]
    furniture = _furniture(lines, height)
    result: list[PageText] = []
    previous_open = False  # the text before this page ended mid-sentence
    for number, page_lines in enumerate(lines):
        body = [line for line in page_lines if (number, id(line)) not in furniture]
        paragraphs, continues, previous_open = _page_paragraphs(body, previous_open)
        result.append(PageText(paragraphs, continues))
    return result


def visual_to_logical(glyphs: list[Glyph], rtl_page: bool = False) -> str:
    """One line's glyphs (left to right as drawn) as text in logical order, presentation forms folded.

    The line is right-to-left when it has Arabic letters on a right-to-left page (``rtl_page``),
    or more Arabic letters than Latin ones (digits do not count) on another: it is reversed, and
    each run of Latin letters and digits in it (with the spaces and punctuation between them, as in
    "12/7/2026" or "Human Rights Watch") turned back.
    """
    tokens = _tokens(glyphs)
    text = "".join(tokens)
    arabic = len(_RTL.findall(text))
    if not arabic or not rtl_page and arabic <= len(_LATIN.findall(text)):
        return _fold(text)
    tokens.reverse()
    out: list[str] = []
    run: list[str] = []  # an LTR run, still in visual order

    def flush() -> None:
        # neutrals at the run's edges belong to the right-to-left text around it
        lead = trail = 0
        while lead < len(run) and not _LTR.search(run[lead]):
            lead += 1
        while trail < len(run) - lead and not _LTR.search(run[len(run) - 1 - trail]):
            trail += 1
        middle = run[lead:len(run) - trail]
        out.extend(t.translate(_BRACKET_MIRROR) for t in run[:lead])
        out.extend(reversed(middle))
        out.extend(t.translate(_BRACKET_MIRROR) for t in run[len(run) - trail:])
        run.clear()

    for token in tokens:
        if _RTL.search(token):
            flush()
            out.append(token.translate(_BRACKET_MIRROR))
        elif _LTR.search(token) or run:
            run.append(token)
        else:
            out.append(token.translate(_BRACKET_MIRROR))
    flush()
    return _fold("".join(out))


def _fold(text: str) -> str:
    """Presentation forms and ligatures to plain letters (NFKC), spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _tokens(glyphs: list[Glyph]) -> list[str]:
    """The line's glyphs left to right, marks after their letters, spaces where the gaps are."""
    letters = sorted((g for g in glyphs if not g.is_mark and g.text.strip()), key=lambda g: (g.x0 + g.x1) / 2)
    if not letters:
        return []
    texts = [g.text for g in letters]
    for mark in (g for g in glyphs if g.is_mark):
        # A mark is drawn from an origin at about its letter's left edge (Chromium: up to a quarter
        # em before it, inside the space or comma to its left), so it goes to the nearest left edge.
        nearest = min(range(len(letters)), key=lambda i: abs(letters[i].x0 - mark.x0))
        texts[nearest] += mark.text
    size = statistics.median(g.size for g in letters)
    tokens = [texts[0]]
    for prev, glyph, text in zip(letters, letters[1:], texts[1:], strict=False):
        if glyph.x0 - prev.x1 > 0.15 * size:
            tokens.append(" ")
        tokens.append(text)
    return tokens


def _group_lines(glyphs: list[Glyph]) -> list[_Line]:
    """Glyphs of one size on one baseline form a line (a footer in 8 pt beside body text in 12 pt does not)."""
    lines: list[_Line] = []
    marks = []
    for glyph in sorted(glyphs, key=lambda g: -g.y):
        if glyph.is_mark:
            marks.append(glyph)
            continue
        if not glyph.text.strip():
            continue
        for line in reversed(lines[-8:]):
            if abs(line.y - glyph.y) <= 0.3 * glyph.size and abs(line.size - glyph.size) <= 0.2 * glyph.size:
                line.glyphs.append(glyph)
                break
        else:
            lines.append(_Line(glyph.y, glyph.size, [glyph]))
    for mark in marks:  # marks are raised or lowered off the baseline: the nearest line that covers them
        near = [line for line in lines if abs(line.y - mark.y) <= 0.8 * line.size
                and line.x0 - 1 <= mark.x0 <= line.x1 + 1]
        if near:
            min(near, key=lambda line: abs(line.y - mark.y)).glyphs.append(mark)
    return lines


def _key(line: _Line) -> str:
    """A line's text for spotting repeats: page numbers and dates vary, so digits are one symbol."""
    text = "".join(sorted(g.text for g in line.glyphs if not g.is_mark))
    return re.sub(r"[0-9٠-٩]", "#", text)


def _furniture(pages: list[list[_Line]], height: float) -> set[tuple[int, int]]:
    """``(page, id(line))`` of the running headers, footers and page numbers."""
    band = FURNITURE_BAND * height

    def in_band(line: _Line) -> bool:
        return line.y >= height - band or line.y <= band

    seen = Counter(key for page in pages for key in {_key(line) for line in page if in_band(line)})
    sizes = [g.size for page in pages for line in page for g in line.glyphs]
    body_size = statistics.median(sizes) if sizes else 0.0
    found = set()
    for number, page in enumerate(pages):
        for line in page:
            if not in_band(line):
                continue
            text = visual_to_logical(line.glyphs)
            repeated = len(pages) > 1 and seen[_key(line)] >= max(2, 0.4 * len(pages))
            # a line or two of glyphs at the edge: a page number, or a line running on to the next
            # page that the printer drew on both and clipped (Chromium), leaving one tall letter here
            stray = sum(1 for g in line.glyphs if not g.is_mark) < 3
            if repeated or stray or _is_page_number(text) or line.size < 0.85 * body_size:
                found.add((number, id(line)))
    return found


def _is_page_number(text: str) -> bool:
    return bool(_PAGE_NUMBER.match(text) or _PAGE_FRACTION.search(text))


def _gutters(lines: list[_Line]) -> list[float]:
    """x positions of column gutters: wide gaps no line crosses, with text on both sides on several lines."""
    if len(lines) < 6:
        return []
    size = statistics.median(line.size for line in lines)
    spans = sorted((g.x0, g.x1) for line in lines for g in line.glyphs if not g.is_mark)
    cuts = []
    reach = spans[0][1]
    for x0, x1 in spans[1:]:
        if x0 - reach >= GUTTER_EM * size:
            cut = (reach + x0) / 2
            left = sum(1 for line in lines if line.x0 < cut)
            right = sum(1 for line in lines if line.x1 > cut)
            if left >= 3 and right >= 3:
                cuts.append(cut)
        reach = max(reach, x1)
    return cuts


def _page_paragraphs(lines: list[_Line], previous_open: bool) -> tuple[list[str], bool, bool]:
    """A page's body lines -> paragraphs, whether the first continues the page before, and whether
    the last is left open (no sentence end)."""
    if not lines:
        return [], False, previous_open
    cuts = _gutters(lines)
    columns: list[list[_Line]] = [[] for _ in range(len(cuts) + 1)]
    for line in lines:
        for glyph in line.glyphs:
            column = sum(1 for cut in cuts if (glyph.x0 + glyph.x1) / 2 > cut)
            part = columns[column]
            if not part or part[-1].y != line.y or part[-1].size != line.size:
                part.append(_Line(line.y, line.size))
            part[-1].glyphs.append(glyph)
    letters = "".join(g.text for line in lines for g in line.glyphs)
    rtl_page = len(_RTL.findall(letters)) > len(_LATIN.findall(letters))
    if rtl_page:
        columns.reverse()  # an Arabic page reads its right-hand column first
    paragraphs: list[str] = []
    continues = False
    open_ = previous_open
    for column in columns:
        column.sort(key=lambda line: -line.y)
        steps = [a.y - b.y for a, b in zip(column, column[1:], strict=False)]
        # the usual line spacing: a low quantile, as paragraphs of two lines make half the steps gaps
        usual = sorted(steps)[len(steps) // 4] if steps else 0.0
        for i, line in enumerate(column):
            text = visual_to_logical(line.glyphs, rtl_page)
            if not text:
                continue
            new = i == 0 and not open_ or i > 0 and (
                # a heading's lines stand further apart than the body's: spacing is judged by size too
                steps[i - 1] > PARAGRAPH_GAP * max(usual, 1.2 * line.size)
                or abs(line.size - column[i - 1].size) > 0.1 * line.size)
            if not new and paragraphs:
                paragraphs[-1] = f"{paragraphs[-1]} {text}"
            elif not new and not paragraphs:
                paragraphs.append(text)
                continues = True
            else:
                paragraphs.append(text)
            open_ = not _SENTENCE_END.search(text)
    return paragraphs, continues, open_


@dataclass(frozen=True)
class OcrLine:
    """A line as Tesseract read it (its words already in logical order), placed on its page.

    ``top`` and ``bottom`` are fractions of the page height from its top edge; ``paragraph`` is
    Tesseract's block and paragraph, as one number.
    """

    paragraph: int
    top: float
    bottom: float
    text: str


def parse_tesseract_tsv(tsv: str) -> list[OcrLine]:
    """Tesseract's ``tsv`` output -> its lines, in its reading order."""
    rows = [row.split("\t") for row in tsv.splitlines()[1:]]
    height = next((float(r[9]) for r in rows if len(r) >= 12 and r[0] == "1"), 0.0) or 1.0
    lines: dict[tuple[int, int, int], list[tuple[float, float, str]]] = {}
    for row in rows:
        # specks read as "_" or "|" (at a line's end they would hide its full stop)
        word = _SPECKS.sub("", row[11].strip()) if len(row) >= 12 and row[0] == "5" else ""
        if not word:
            continue
        block, par, number = int(row[2]), int(row[3]), int(row[4])
        top, box = float(row[7]), float(row[9])
        lines.setdefault((block, par, number), []).append((top, top + box, word))
    return [OcrLine(block * 1000 + par, min(w[0] for w in words) / height, max(w[1] for w in words) / height,
                    arabic_punctuation(" ".join(w[2] for w in words)))
            for (block, par, _), words in lines.items()]


_SPECKS = re.compile(r"[_|]+$|^[_|]+")
_AFTER_ARABIC = re.compile(r"(?<=[\u0621-\u0652])([,;?])")


def arabic_punctuation(text: str) -> str:
    """Tesseract's Arabic model reads "،" "؛" "؟" as "," ";" "?": after an Arabic letter they are put back
    (on the article's scan: 46 of its 76 commas; the sentence and clause splitters cut at them)."""
    return _AFTER_ARABIC.sub(lambda m: {",": "،", ";": "؛", "?": "؟"}[m.group(1)], text)


def ocr_pages_text(pages: list[list[OcrLine]]) -> list[PageText]:
    """Scanned pages' lines -> paragraphs, with running headers, footers and page numbers left out as
    for a text layer (:func:`pages_text`): the lines at the page's top or bottom edge, in the band,
    that repeat on other pages, are a page number, or are set smaller than the body. Only lines at
    the edge: a short body line's box can be as low as a header's."""
    heights = [line.bottom - line.top for page in pages for line in page]
    body = statistics.median(heights) if heights else 0.0

    def key(line: OcrLine) -> str:
        return re.sub(r"[0-9٠-٩]", "#", line.text)

    def edges(page: list[OcrLine]) -> list[OcrLine]:
        return [line for line in page if line.top <= FURNITURE_BAND or line.bottom >= 1 - FURNITURE_BAND]

    edge_keys = [{key(line) for line in edges(page)} for page in pages]
    seen = Counter(k for keys in edge_keys for k in keys)

    def repeats(line: OcrLine, page: int) -> bool:
        """On other pages too: OCR reads a running header a little differently on each page, so a
        near match counts (difflib ratio 0.9; a page's title under the same words as its header is
        further off: 0.83 on the article)."""
        if len(pages) < 2:
            return False
        if seen[key(line)] >= max(2, 0.4 * len(pages)):
            return True
        others = [keys for number, keys in enumerate(edge_keys) if number != page]
        near = sum(1 for keys in others[:20] if any(
            difflib.SequenceMatcher(None, key(line), other, autojunk=False).ratio() >= 0.9 for other in keys))
        return near >= max(1, 0.4 * min(len(others), 20))

    def furniture(line: OcrLine, page: int) -> bool:
        repeated = repeats(line, page)
        return repeated or _is_page_number(line.text) or line.bottom - line.top < 0.75 * body

    result: list[PageText] = []
    open_ = False
    for number, page in enumerate(pages):
        dropped: set[int] = set()
        by_top = sorted(range(len(page)), key=lambda i: page[i].top)
        for i in by_top:  # from the top edge down, while the lines are furniture
            if page[i].top > FURNITURE_BAND or not furniture(page[i], number):
                break
            dropped.add(i)
        for i in reversed(by_top):  # and from the bottom edge up
            if page[i].bottom < 1 - FURNITURE_BAND or not furniture(page[i], number):
                break
            dropped.add(i)
        paragraphs: list[str] = []
        continues = False
        last = None
        lines_in_last = 0
        for i, line in enumerate(page):
            if i in dropped:
                continue
            # Tesseract sometimes starts a paragraph at a paragraph's last line: a paragraph of two
            # lines or more that stopped mid-sentence goes on (a one-line heading does not)
            if line.paragraph == last or paragraphs and open_ and lines_in_last >= 2:
                paragraphs[-1] = f"{paragraphs[-1]} {line.text}"
                lines_in_last += 1
            elif not paragraphs and open_:  # runs on from the page before
                paragraphs.append(line.text)
                continues = True
                lines_in_last = 1
            else:
                paragraphs.append(line.text)
                lines_in_last = 1
            last = line.paragraph
            open_ = not _SENTENCE_END.search(line.text)
        result.append(PageText(paragraphs, continues))
    return result

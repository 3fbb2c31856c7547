"""HTML -> the article's title and text: trafilatura finds the article in a saved news page (not its
menus, related links or footer); a page it finds none in is read whole, visible text only."""

from __future__ import annotations

from . import quiet_loggers

_DROPPED_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "nav", "footer", "form")
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
               "header", "blockquote", "pre", "td", "th", "dt", "dd", "figcaption", "main", "aside")


def html_to_text(html: str) -> tuple[str, str]:
    """The title and article text of a web page, one block per line.

    trafilatura finds the article in a page saved from a news site and leaves out its menus,
    "related" lists, share buttons, comments and footer (on our news-page test: character
    similarity to the article against the visible text's: docs/ingest.md). ``favor_precision``:
    without it a short page keeps its menu and splits a paragraph at its bold words. A page it
    finds no article in (a short note, a list) keeps its visible text.
    """
    import trafilatura

    quiet = quiet_loggers("trafilatura", "htmldate", "courlan")
    try:
        found = trafilatura.bare_extraction(html, include_comments=False, include_tables=True, with_metadata=True,
                                            favor_precision=True)
    except Exception:  # a page it cannot parse: the visible text below
        found = None
    finally:
        quiet()
    text = getattr(found, "text", None) or ""
    if text.strip():
        title = " ".join((getattr(found, "title", None) or "").split())
        lines = [" ".join(line.split()) for line in text.splitlines()]
        text = "\n".join(line for line in lines if line)
        if title and not text.startswith(title):
            text = f"{title}\n{text}"
        return title, text
    return visible_text(html)


def visible_text(html: str) -> tuple[str, str]:
    """Title and visible text of an HTML page, one block per line, scripts and navigation dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(list(_DROPPED_TAGS)):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    for tag in soup(list(_BLOCK_TAGS)):
        tag.insert_after("\n")
    lines = [" ".join(line.split()) for line in soup.get_text().splitlines()]
    text = "\n".join(line for line in lines if line)
    if title and not text.startswith(title):
        text = f"{title}\n{text}"
    return title, text

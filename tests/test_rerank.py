"""Optional reranking: the pure reordering, a fake reranker through the real pipeline, and a real
CrossEncoder loaded offline from a tiny model folder made here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import ConfigError
from assistant.models.embeddings import CrossEncoderReranker
from assistant.retrieve.rerank import rerank
from assistant.types import Chunk, Hit


def _hit(i: int, score: float) -> Hit:
    return Hit.of(Chunk(f"c{i}", "a.txt", "", 0, 0, 9, f"passage {i}"), score)


def test_rerank_orders_by_the_rerankers_scores_and_keeps_the_fused_order_on_ties():
    hits = [_hit(i, 1.0 - i / 10) for i in range(4)]
    reordered = rerank(hits, [0.1, 0.9, 0.5, 0.9], top_k=3)
    assert [h.chunk_id for h in reordered] == ["c1", "c3", "c2"]
    assert [h.score for h in reordered] == [0.9, 0.9, 0.5]
    assert [h.chunk_id for h in rerank(hits, [0.0] * 4, top_k=4)] == ["c0", "c1", "c2", "c3"]
    assert rerank([], [], top_k=5) == []
    with pytest.raises(ValueError):
        rerank(hits, [0.5], top_k=2)


class EightHundredFirst:
    """A fake reranker: passages that give Amaq's figure of 800 escapees first."""

    name = "fake"

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def scores(self, question: str, passages: list[str]) -> list[float]:
        self.calls.append((question, len(passages)))
        return [1.0 if "800" in p else 0.0 for p in passages]


def test_the_reranker_reads_the_fused_candidates_and_orders_retrieval_and_answers(bot: Assistant):
    fake = EightHundredFirst()
    reranked = Assistant(bot.settings.replace(rerank_depth=12), embedder=bot.parts.embedder,
                         second_embedder=bot.parts.encoders.second, reranker=fake)
    question = "How many prisoners escaped?"
    hits = reranked.retrieve(question, top_k=3)
    assert fake.calls == [(question, 12)]
    assert "800" in hits[0].text and hits[0].score == 1.0
    assert len(hits) == 3
    answer = reranked.ask(question)
    assert answer.grounded and any("800" in c.text for c in answer.citations)


def _tiny_cross_encoder(folder: Path) -> Path:
    """A one-layer BERT with a random one-label head and a character vocabulary, saved as a model
    folder: what a user's fine-tuned CrossEncoder looks like on disk, small enough to build here."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    torch.manual_seed(0)  # a fixed random head: its order differs from the fused one (checked below)

    folder.mkdir(parents=True)
    chars = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789?") | {chr(c) for c in range(0x0621, 0x064B)})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + [f"##{c}" for c in chars]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=512, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_a_cross_encoder_folder_loads_offline_and_orders_the_passages(bot: Assistant, tmp_path: Path):
    folder = _tiny_cross_encoder(tmp_path / "cross-encoder")
    model = CrossEncoderReranker(str(folder))
    reranked = Assistant(bot.settings.replace(rerank_model=str(folder), rerank_depth=8), embedder=bot.parts.embedder,
                         second_embedder=bot.parts.encoders.second)
    question = "كم عدد القتلى؟"
    fused = bot.retrieve(question, top_k=8)
    expected = model.scores(question, [h.text for h in fused])
    assert len(expected) == 8 and all(isinstance(s, float) for s in expected)
    hits = reranked.retrieve(question, top_k=5)
    assert [h.chunk_id for h in hits] == [h.chunk_id for h in rerank(fused, expected, top_k=5)]
    assert [h.chunk_id for h in hits] != [h.chunk_id for h in fused[:5]]


def test_a_reranker_that_cannot_load_is_a_config_error_naming_the_setting(bot: Assistant, tmp_path: Path):
    broken = Assistant(bot.settings.replace(rerank_model=str(tmp_path / "no-such-model")), embedder=bot.parts.embedder)
    with pytest.raises(ConfigError, match="ASSISTANT_RERANK_MODEL"):
        broken.retrieve("How many civilians were killed?")


def test_cli_with_a_broken_reranker_exits_2_with_one_line(bot: Assistant, tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "ASSISTANT_PROGRESS": "0",
           "ASSISTANT_INDEX_DIR": str(bot.settings.index_dir), "ASSISTANT_CORPUS_DIR": str(bot.settings.corpus_dir),
           "ASSISTANT_MODEL_CACHE": str(bot.settings.model_cache),
           "ASSISTANT_RERANK_MODEL": str(tmp_path / "no-such-model")}
    result = subprocess.run([sys.executable, "-m", "assistant", "ask", "How many civilians were killed?"],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 2, result.stderr
    assert "ASSISTANT_RERANK_MODEL" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0

"""SQuAD loading, retrieval records and summaries (pure), and one small XQuAD eval end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Settings
from assistant.errors import ConfigError
from assistant.eval.questions import Question, load_squad
from assistant.eval.reports import summary_table
from assistant.eval.scoring import gold_units, reply_language, score_retrieval, summarize
from assistant.types import Answer, Chunk

XQUAD_DIR = Settings().xquad_dir


def _squad(path: Path, paragraphs: list[tuple[str, list[dict]]]) -> Path:
    data = {"version": "1.1", "data": [{"title": "t", "paragraphs": [
        {"context": context, "qas": qas} for context, qas in paragraphs]}]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _qa(qid: str, question: str, answers: list[str], **extra) -> dict:
    return {"id": qid, "question": question, "answers": [{"text": a, "answer_start": 0} for a in answers], **extra}


@pytest.fixture
def tiny_pair(tmp_path: Path) -> tuple[Path, Path]:
    ar = _squad(tmp_path / "ar.json", [
        ("سجل فريق دنفر 24 نقطة في المباراة.", [_qa("q1", "كم نقطة سجل دنفر؟", ["24"])]),
        ("أقيمت المباراة في سانتا كلارا.", [_qa("q2", "أين أقيمت المباراة؟", ["سانتا كلارا"]),
                                            _qa("q3", "من حكم المباراة؟", [], is_impossible=True)]),
        ("سجل فريق دنفر 24 نقطة في المباراة.", []),  # the same text again: also gold for q1
    ])
    en = _squad(tmp_path / "en.json", [
        ("Denver scored 24 points in the game.", [_qa("q1", "How many points did Denver score?", ["24 points"])]),
        ("The game was played in Santa Clara.", [_qa("q2", "Where was the game played?", ["Santa Clara"])]),
    ])
    return ar, en


def test_squad_paragraphs_and_own_questions(tiny_pair):
    ar, _ = tiny_pair
    squad = load_squad(ar)
    assert list(squad.paragraphs) == ["p000-00.txt", "p000-01.txt", "p000-02.txt"]
    q1, q2, q3 = squad.questions
    assert q1.lang == "ar" and q1.id == "ar-q1" and q1.question == "كم نقطة سجل دنفر؟"
    assert q1.gold_sources == ["p000-00.txt", "p000-02.txt"]  # duplicate paragraphs are both gold
    assert q1.answers == ["24"] and q1.evidence == ["24"]
    assert q2.gold_sources == ["p000-01.txt"]
    assert not q3.answerable and q3.gold_sources == []


def test_parallel_questions_are_asked_against_the_contexts(tiny_pair):
    ar, en = tiny_pair
    squad = load_squad(ar, [en])
    assert [q.lang for q in squad.questions] == ["en", "en"]
    q1 = squad.questions[0]
    assert q1.question == "How many points did Denver score?"
    assert q1.gold_sources == ["p000-00.txt", "p000-02.txt"]
    assert q1.answers == ["24", "24 points"] and q1.evidence == ["24"]  # evidence: spans in the indexed text
    both = load_squad(ar, [ar, en], limit=1)
    assert [q.id for q in both.questions] == ["ar-q1", "en-q1"]


def test_squad_errors_say_what_to_do(tmp_path, tiny_pair):
    ar, _ = tiny_pair
    stray = _squad(tmp_path / "other.json", [("x", [_qa("nope", "Who?", ["x"])])])
    with pytest.raises(ConfigError, match="translation of the same SQuAD set"):
        load_squad(ar, [stray])
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [{"paragraphs": [{"qas": []}]}]}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not SQuAD-format"):
        load_squad(broken)
    with pytest.raises(ConfigError, match="Cannot read"):
        load_squad(tmp_path / "missing.json")


def _chunk(chunk_id: str, source: str, text: str = "") -> Chunk:
    return Chunk(chunk_id, source, "", 1, 0, len(text), text)


def test_retrieval_records_map_chunks_to_paragraphs_and_summarise():
    q_ar = Question("ar-1", "ar", ["س"], ["24"], ["24"], gold_sources=["p1.txt"])
    q_en = Question("en-1", "en", ["q"], ["24"], ["24"], gold_sources=["p2.txt"])
    records = [
        # Two chunks of p0, then p1: p1 is rank 2 once duplicates are merged.
        score_retrieval(q_ar, [_chunk("a", "p0.txt"), _chunk("b", "p0.txt"), _chunk("c", "p1.txt")], 10.0,
                        "dense-only", gold_units(q_ar, [])),
        score_retrieval(q_en, [], 30.0, "dense-only", gold_units(q_en, [])),  # nothing retrieved
    ]
    assert records[0].retrieved_units == ["p0.txt", "p0.txt", "p1.txt"]
    assert records[0].retrieved_gold == [False, False, True]
    summary = summarize(records)
    assert summary["hit@1"] == 0.0 and summary["hit@5"] == 0.5 and summary["mrr@10"] == 0.25
    assert summary["mrr@10_ar"] == 0.5 and summary["hit@5_en"] == 0.0
    assert summary["hit_curve"]["ar"][:2] == [0.0, 1.0]
    assert "accuracy" not in summary  # retrieval-only records have no answers to score
    table = summary_table({"dense-only": records})
    assert "| dense-only | ar |" in table and "| dense-only | all |" in table and "accuracy" not in table


def test_evidence_gold_for_our_own_question_set():
    q = Question("x", "ar", ["كم؟"], ["136"], ["مقتل 136 شخصاً"])
    corpus = [_chunk("c1", "a.txt", "أدت إلى مقتل ١٣٦ شخصاً"), _chunk("c2", "a.txt", "لا")]
    assert gold_units(q, corpus) == ["c1"]
    assert gold_units(Question("u", "ar", ["?"], [], [], answerable=False), corpus) == []


def test_reply_language_ignores_quotes():
    assert reply_language(Answer("The document says: «قتل 7» [1]", True, "en")) == "en"
    assert reply_language(Answer("7 — «قتل 7 مدنيين» [1]", True, "ar")) == "ar"
    assert reply_language(Answer("لم أجد في المستندات", False, "en")) == "ar"


@pytest.fixture
def xquad_subset(tmp_path: Path) -> tuple[Path, Path]:
    """The first 5 XQuAD paragraphs, 2 questions each, in Arabic and the parallel English."""
    if not (XQUAD_DIR / "xquad.ar.json").exists():
        pytest.skip(f"XQuAD not found in {XQUAD_DIR}")
    paths = []
    for lang in ("ar", "en"):
        data = json.loads((XQUAD_DIR / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        paragraphs = data["data"][0]["paragraphs"][:5]
        for paragraph in paragraphs:
            paragraph["qas"] = paragraph["qas"][:2]
        data["data"] = [{"title": data["data"][0]["title"], "paragraphs": paragraphs}]
        path = tmp_path / f"xquad-mini.{lang}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


def test_xquad_eval_end_to_end_with_baselines(xquad_subset, settings_base, embedder, tmp_path):
    from assistant.bench.runner import run_eval

    ar, en = xquad_subset
    out = tmp_path / "out"
    outcome = run_eval(settings_base, out, squad=ar, questions_from=[ar, en], compare=True, embedder=embedder)

    assert set(outcome.runs) == {"ours", "sentence picker", "dense-only", "BM25-only", "vanilla llama-index"}
    for name in ("records.jsonl", "records-dense-only.jsonl", "records-bm25-only.jsonl",
                 "records-vanilla-llama-index.jsonl", "summary.json", "summary.md", "hit-at-k.png"):
        assert (out / name).exists(), name
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 20
    record = json.loads(lines[0])
    assert {"question", "answer", "grounded", "citations", "retrieved", "retrieved_units", "retrieved_gold",
            "gold_units", "latency_ms"} <= set(record)
    assert record["gold_units"] == ["p000-00.txt"] and len(record["retrieved_gold"]) == len(record["retrieved"])
    if record["citations"]:
        assert {"text", "start", "end", "quote_start", "quote_end"} <= set(record["citations"][0])

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["questions"] == 20 and summary["setup"]["paragraphs"] == 5
    assert summary["hit@5_ar"] == 1.0  # five paragraphs: the gold one is always in the top five
    for key in ("hit@1", "mrr@10", "ndcg@10", "accuracy_ar", "f1", "citation_precision", "language_match",
                "faithfulness", "latency_ms_p50"):
        value = summary[key]
        assert value is not None and 0 <= value <= (1 if key != "latency_ms_p50" else 1e6), key
    assert set(summary["compare"]) == {"sentence picker", "dense-only", "BM25-only", "vanilla llama-index"}
    assert summary["compare"]["vanilla llama-index"]["questions"] == 20
    table = (out / "summary.md").read_text(encoding="utf-8")
    assert "| ours | ar |" in table and "| vanilla llama-index | en |" in table

    from llama_index.core import Settings as LlamaSettings

    assert LlamaSettings._llm is None  # the baseline never resolved llama-index's default (OpenAI) LLM


def test_eval_cli_rejects_questions_from_without_squad(capsys, tmp_path):
    from assistant.ui.cli import main

    assert main(["eval", "--questions-from", str(tmp_path / "x.json"), "--out", str(tmp_path)]) == 2
    assert "--questions-from needs --squad" in capsys.readouterr().err

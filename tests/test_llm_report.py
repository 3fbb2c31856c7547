"""The real-model bench's report of what verification did, on answers a scripted LLM wrote through
the real pipeline (so the notes it parses are the ones the answerer writes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.eval.llm_report import fallback_kind, llm_summary, sentences, write_llm_report
from assistant.eval.questions import Question
from assistant.eval.scoring import score_answer
from assistant.llm.failure import LLMFailure


@pytest.fixture(scope="module")
def records(bot):
    """Records of four questions: a partly wrong answer, an answer with nothing true, a timeout, a refusal,
    and one asked in extractive mode."""
    from fake_servers import ScriptedLLM

    from assistant import Assistant

    llm = ScriptedLLM()
    assistant = Assistant(bot.settings, embedder=bot.parts.embedder, second_embedder=bot.parts.encoders.second, llm=llm)
    question = "How many civilians were killed?"
    hits = assistant.parts.retriever.retrieve_with_vectors(question, assistant.parts.retriever.embed(question), 5)
    n = next(i for i, hit in enumerate(hits, start=1) if "وسبعة مدنيين" in hit.text)
    llm.enqueue(f"Seven civilians were killed [{n}]. The Observatory is based in London [{n}].",
                f"136 civilians were killed [{n}].",
                LLMFailure("timeout", "no complete reply within 60 s"),
                "I could not find an answer to this question in the indexed documents.")
    asked = [assistant.ask(question) for _ in range(4)] + [assistant.ask(question, mode="extractive")]
    assert llm.pending == 0
    item = Question("q", "en", [question], ["7", "seven"], ["وسبعة مدنيين"])
    return [score_answer(Question(f"q{i}", **{k: v for k, v in vars(item).items() if k != "id"}), answer, 1000.0 * i)
            for i, answer in enumerate(asked, start=1)]


def test_each_sentence_is_kept_or_dropped_with_its_reason(records) -> None:
    kept, dropped = sentences(records[0])
    assert (kept.outcome, kept.sentence) == ("kept", "Seven civilians were killed.")
    assert "وسبعة مدنيين" in kept.quotes[0]
    assert (dropped.outcome, dropped.sentence) == ("dropped", "The Observatory is based in London.")
    assert dropped.reason
    [caught] = sentences(records[1])  # nothing true: the extractive answer follows
    assert (caught.outcome, caught.sentence) == ("dropped", "136 civilians were killed.")
    assert [fallback_kind(r) for r in records] == ["", "unverified", "timeout", "", ""]
    assert sentences(records[2]) == sentences(records[3]) == sentences(records[4]) == []


def test_the_summary_counts_what_the_llm_was_asked(records, tmp_path: Path) -> None:
    summary = llm_summary(records)
    assert summary["llm_asked"] == 4  # not the question asked in extractive mode
    assert (summary["llm_answers_used"], summary["llm_refusals"]) == (1, 1)
    assert summary["fallbacks"] == {"unverified": 1, "timeout": 1}
    assert (summary["sentences_kept"], summary["sentences_dropped"], summary["sentences_marked"]) == (1, 2, 0)
    assert summary["llm_latency_ms_p50"] == 2500.0
    report = write_llm_report(records, tmp_path / "llm-report.md").read_text(encoding="utf-8")
    assert "**dropped**: 136 civilians were killed." in report and "extractive after timeout" in report
    assert "q5" not in report
    assert llm_summary(records[4:]) == {}

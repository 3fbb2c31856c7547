"""The command line, in-process (shares nothing with the API fixtures) and once as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assistant.cli import main


@pytest.fixture
def cli_env(bot, monkeypatch):
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(bot.settings.index_dir))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(bot.settings.corpus_dir))
    monkeypatch.setenv("ASSISTANT_PROGRESS", "0")


def test_ask_json(cli_env, capsys):
    assert main(["ask", "How many civilians were killed?", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"answer", "grounded", "language", "citations"}
    assert out["language"] == "en" and out["citations"]
    assert set(out["citations"][0]) >= {"number", "chunk_id", "text", "source", "start", "end", "score"}


def test_index_is_idempotent(cli_env, capsys):
    assert main(["index"]) == 0
    assert "0 added, 0 updated, 1 unchanged" in capsys.readouterr().out


def test_docs_lists_the_article(cli_env, capsys):
    assert main(["docs"]) == 0
    assert "19 chunks  ghweiran-prison.txt" in capsys.readouterr().out


def test_eval_writes_records_and_summary(cli_env, tmp_path, capsys):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "a", "lang": "ar", "question": "كم عدد القتلى بحسب المرصد؟", "answers": ["136"],
                    "evidence": ["مقتل 136 شخصاً"], "answerable": True}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    assert main(["eval", str(questions), "--out", str(tmp_path / "out")]) == 0
    record = json.loads((tmp_path / "out" / "records.jsonl").read_text().splitlines()[0])
    assert {"id", "question", "answer", "grounded", "citations", "retrieved", "latency_ms"} <= set(record)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["accuracy_ar"] == 1.0


def test_empty_question_exits_2_with_one_line_and_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "assistant", "ask", "  "], capture_output=True, text=True,
                            timeout=120, env={"PATH": "/usr/bin:/bin", "ASSISTANT_INDEX_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_document_removal_exits_2(cli_env, capsys):
    assert main(["docs", "--remove", "nope.txt"]) == 2
    assert "not in the index" in capsys.readouterr().err

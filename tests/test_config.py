from __future__ import annotations

from pathlib import Path

import pytest

from assistant import ConfigError, Settings
from assistant.config import env_var_names


def test_from_env_reads_typed_values():
    s = Settings.from_env({"ASSISTANT_TOP_K": "7", "ASSISTANT_INDEX_DIR": "/tmp/x", "ASSISTANT_PROGRESS": "0",
                           "ASSISTANT_MIN_SUPPORT_AR": "0.5"})
    assert s.top_k == 7 and s.index_dir == Path("/tmp/x") and s.progress is False and s.min_support_ar == 0.5


def test_overrides_win_over_environment():
    assert Settings.from_env({"ASSISTANT_TOP_K": "7"}, top_k=3).top_k == 3


def test_gradio_variables_count_when_the_assistant_ones_are_not_set():
    gradio = {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7999"}
    assert (Settings.from_env(gradio).host, Settings.from_env(gradio).port) == ("0.0.0.0", 7999)
    ours = Settings.from_env({**gradio, "ASSISTANT_HOST": "127.0.0.2", "ASSISTANT_PORT": "7001"})
    assert (ours.host, ours.port) == ("127.0.0.2", 7001)
    with pytest.raises(ConfigError, match="GRADIO_SERVER_PORT='web'"):
        Settings.from_env({"GRADIO_SERVER_PORT": "web"})


def test_bad_values_name_the_variable():
    with pytest.raises(ConfigError, match="ASSISTANT_TOP_K"):
        Settings.from_env({"ASSISTANT_TOP_K": "many"})
    with pytest.raises(ConfigError, match="top_k"):
        Settings(top_k=0)


def test_api_key_is_not_in_repr():
    assert "sekrit" not in repr(Settings(llm_api_key="sekrit"))


def test_every_field_has_a_variable():
    assert "ASSISTANT_EMBED_MODEL" in env_var_names() and "ASSISTANT_CHROMA_URL" in env_var_names()


def test_the_groups_nest_and_keep_their_flat_names_and_variables():
    s = Settings.from_env({"ASSISTANT_READER_SENTENCES": "2", "ASSISTANT_READER": "", "ASSISTANT_LEXICAL_WEIGHT": "2",
                           "ASSISTANT_VERIFICATION__MAX_GAP": "0.05"}, reader_passages=3)
    assert (s.reader.adapter, s.reader.sentences, s.reader.passages) == ("", 2, 3)
    assert s.fusion.lexical == s.lexical_weight == 2.0 and s.verification.max_gap == s.verify_max_gap == 0.05
    changed = s.replace(verify="mark", min_support_ar=0.5)
    assert changed.verification.mode == "mark" and changed.answer.min_support_ar == 0.5
    assert changed.reader == s.reader and changed.verification.max_gap == 0.05
    with pytest.raises(ConfigError, match="ASSISTANT_VERIFY"):
        Settings(verify="maybe")
    with pytest.raises(ConfigError, match="ASSISTANT_READER_PASSAGES"):
        Settings.from_env({"ASSISTANT_READER_PASSAGES": "0"})


def test_settings_built_directly_ignore_the_environment(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    assert Settings().top_k == 5 and Settings.from_env().top_k == 9

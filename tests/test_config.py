from __future__ import annotations

from pathlib import Path

import pytest

from assistant import ConfigError, Settings
from assistant.config import env_var_names


def test_settings_read_typed_values_from_the_environment(monkeypatch):
    for name, value in {"ASSISTANT_TOP_K": "7", "ASSISTANT_INDEX_DIR": "/tmp/x", "ASSISTANT_PROGRESS": "0",
                        "ASSISTANT_ANSWER__MIN_SUPPORT_AR": "0.5"}.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    assert s.top_k == 7 and s.index_dir == Path("/tmp/x") and s.progress is False and s.answer.min_support_ar == 0.5


def test_keywords_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TOP_K", "7")
    assert Settings(top_k=3).top_k == 3 and Settings(index_dir="elsewhere").top_k == 7


def test_gradio_variables_count_when_the_assistant_ones_are_not_set(monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    assert (Settings().host, Settings().port) == ("0.0.0.0", 7999)
    monkeypatch.setenv("ASSISTANT_HOST", "127.0.0.2")
    monkeypatch.setenv("ASSISTANT_PORT", "7001")
    assert (Settings().host, Settings().port) == ("127.0.0.2", 7001)
    assert Settings(host="127.0.0.3", port=7002).port == 7002
    monkeypatch.delenv("ASSISTANT_PORT")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "web")
    with pytest.raises(ConfigError, match="GRADIO_SERVER_PORT='web'"):
        Settings()


def test_a_shell_variable_named_like_a_field_is_not_read(monkeypatch):
    monkeypatch.setenv("HOST", "my-laptop")  # zsh sets it; only ASSISTANT_HOST and GRADIO_SERVER_NAME count
    monkeypatch.setenv("TOP_K", "9")
    assert Settings().host == "127.0.0.1" and Settings().top_k == 5


def test_bad_values_name_the_variable(monkeypatch):
    with pytest.raises(ConfigError, match="top_k"):
        Settings(top_k=0)
    monkeypatch.setenv("ASSISTANT_READER__PIN_WINDOW", "wide")
    with pytest.raises(ConfigError, match="ASSISTANT_READER__PIN_WINDOW='wide'"):
        Settings()
    monkeypatch.setenv("ASSISTANT_TOP_K", "many")
    with pytest.raises(ConfigError, match="ASSISTANT_TOP_K='many'"):
        Settings()


def test_api_key_is_not_in_repr():
    assert "sekrit" not in repr(Settings(llm_api_key="sekrit"))


def test_every_field_has_a_variable():
    names = env_var_names()
    assert "ASSISTANT_EMBED_MODEL" in names and "ASSISTANT_CHROMA_URL" in names
    assert "ASSISTANT_READER__SELECTIVE" in names and "ASSISTANT_VERIFICATION__MAX_GAP" in names


def test_the_groups_nest_one_name_each(monkeypatch):
    for name, value in {"ASSISTANT_READER__SENTENCES": "2", "ASSISTANT_READER__ADAPTER": "",
                        "ASSISTANT_FUSION__LEXICAL": "2", "ASSISTANT_VERIFICATION__MAX_GAP": "0.05"}.items():
        monkeypatch.setenv(name, value)
    s = Settings(reader={"passages": 3})  # a group given in part keeps the environment's rest
    assert (s.reader.adapter, s.reader.sentences, s.reader.passages) == ("", 2, 3)
    assert s.fusion.lexical == 2.0 and s.verification.max_gap == 0.05
    assert not hasattr(s, "lexical_weight") and not hasattr(s, "verify_max_gap")
    changed = s.replace(verification={"mode": "mark"}, answer={"min_support_ar": 0.5})
    assert changed.verification.mode == "mark" and changed.answer.min_support_ar == 0.5
    assert changed.reader == s.reader and changed.verification.max_gap == 0.05
    with pytest.raises(ConfigError, match="ASSISTANT_VERIFICATION__MODE"):
        Settings(verification={"mode": "maybe"})
    with pytest.raises(ConfigError, match="ASSISTANT_READER__PASSAGES"):
        Settings(reader={"passages": 0})
    with pytest.raises(ConfigError, match="verify is not a setting"):
        Settings(verify="mark")  # the old flat names are gone

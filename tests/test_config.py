"""Settings precedence (overrides > env > twin.toml > defaults) and the workspace file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from llm_twin.config import (CONFIG_FILE_NAME, DEFAULT_EMBEDDING_MODEL, DEFAULT_GENERATION_MODEL,
                             ensure_workspace, load_settings, set_config_value)
from llm_twin.errors import InputError


def write_toml(workspace: Path, text: str) -> None:
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / CONFIG_FILE_NAME).write_text(text, encoding="utf-8")


def test_defaults_without_toml_or_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    s = load_settings(tmp_path / "ws")
    assert s.workspace == tmp_path / "ws"
    assert s.embedding_model == DEFAULT_EMBEDDING_MODEL
    assert s.generation_model == DEFAULT_GENERATION_MODEL
    assert s.owner_name is None
    assert s.database_url is None and s.vector_store_path is None
    assert (s.chunk_max_chars, s.chunk_overlap_chars) == (1000, 150)
    assert (s.retrieval_k, s.style_examples, s.context_tokens) == (4, 3, 2048)
    assert s.backend == "auto" and s.device == "auto" and s.ct2_compute_type == "auto"
    assert s.cache_dir == tmp_path / "xdg-cache" / "llm-twin"
    assert s.config_file == tmp_path / "ws" / CONFIG_FILE_NAME
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert load_settings(tmp_path / "ws").cache_dir == Path.home() / ".cache" / "llm-twin"


def test_loading_settings_creates_nothing(tmp_path: Path) -> None:
    load_settings(tmp_path / "ws")
    assert not (tmp_path / "ws").exists()


def test_toml_values_are_picked_up(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write_toml(ws, 'owner_name = "Dana"\nchunk_max_chars = 640\nretrieval_k = 7\n'
                   'embedding_model = "some/model"\nunknown_key = 1\n')
    s = load_settings(ws)
    assert s.owner_name == "Dana"
    assert s.chunk_max_chars == 640
    assert s.retrieval_k == 7
    assert s.embedding_model == "some/model"
    assert s.temperature == 0.6  # untouched keys keep their defaults


def test_toml_of_another_workspace_is_not_read(tmp_path: Path) -> None:
    write_toml(tmp_path / "a", 'owner_name = "Dana"\n')
    assert load_settings(tmp_path / "b").owner_name is None
    assert load_settings(tmp_path / "a").owner_name == "Dana"


def test_env_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "ws"
    write_toml(ws, 'owner_name = "Dana"\nretrieval_k = 7\ntemperature = 0.2\n')
    monkeypatch.setenv("TWIN_OWNER_NAME", "Eve")
    monkeypatch.setenv("TWIN_RETRIEVAL_K", "2")
    s = load_settings(ws)
    assert s.owner_name == "Eve"
    assert s.retrieval_k == 2
    assert s.temperature == 0.2  # no env variable: the toml still wins over the default


def test_explicit_overrides_beat_env_and_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "ws"
    write_toml(ws, 'owner_name = "Dana"\nretrieval_k = 7\n')
    monkeypatch.setenv("TWIN_OWNER_NAME", "Eve")
    monkeypatch.setenv("TWIN_RETRIEVAL_K", "2")
    s = load_settings(ws, owner_name="Mallory", retrieval_k=9)
    assert (s.owner_name, s.retrieval_k) == ("Mallory", 9)


def test_none_overrides_do_not_mask_lower_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CLI flag left unset arrives as None and must not erase the env or toml value."""
    ws = tmp_path / "ws"
    write_toml(ws, 'retrieval_k = 7\n')
    monkeypatch.setenv("TWIN_OWNER_NAME", "Eve")
    s = load_settings(ws, owner_name=None, retrieval_k=None)
    assert (s.owner_name, s.retrieval_k) == ("Eve", 7)


def test_workspace_from_env_when_not_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "from-env"
    write_toml(ws, 'owner_name = "Dana"\n')
    monkeypatch.setenv("TWIN_WORKSPACE", str(ws))
    s = load_settings()
    assert s.workspace == ws
    assert s.owner_name == "Dana"


def test_invalid_values_are_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="chunk_max_chars: Input should be greater than or equal "
                                         "to 200") as rejected:
        load_settings(tmp_path / "ws", chunk_max_chars=10)  # ge=200
    assert isinstance(rejected.value.__cause__, ValidationError)
    assert "\n" not in str(rejected.value)
    monkeypatch.setenv("TWIN_TOP_P", "1.5")
    with pytest.raises(InputError, match="top_p"):
        load_settings(tmp_path / "ws")


def test_a_broken_toml_names_the_file(tmp_path: Path) -> None:
    write_toml(tmp_path / "ws", 'owner_name = "Dana\n')
    with pytest.raises(InputError, match=r"twin\.toml is not valid TOML: .*line 1"):
        load_settings(tmp_path / "ws")


def test_ensure_workspace_creates_folder_and_toml_once(tmp_path: Path) -> None:
    ws = tmp_path / "nested" / "ws"
    s = load_settings(ws, owner_name="Dana")
    assert ensure_workspace(s) is True
    assert ws.is_dir()
    text = s.config_file.read_text(encoding="utf-8")
    data = tomllib.loads(text)  # the commented file is valid TOML
    assert data == {"embedding_model": DEFAULT_EMBEDDING_MODEL,
                    "generation_model": DEFAULT_GENERATION_MODEL,
                    "backend": "auto", "owner_name": "Dana"}
    assert "# retrieval_k = 4" in text  # the other settings are documented as comments

    s.config_file.write_text(text + 'retrieval_k = 5\n', encoding="utf-8")
    assert ensure_workspace(s) is False  # second call: the user's edits are not overwritten
    assert "retrieval_k = 5" in s.config_file.read_text(encoding="utf-8")
    assert load_settings(ws).retrieval_k == 5


def test_resolved_database_url_and_vector_path(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "ws")
    assert s.resolved_database_url == f"sqlite:///{(tmp_path / 'ws' / 'twin.db').resolve()}"
    assert s.resolved_vector_store_path == tmp_path / "ws" / "vectors"

    custom = load_settings(tmp_path / "ws", database_url="postgresql+psycopg://u@h/db",
                           vector_store_path=tmp_path / "elsewhere")
    assert custom.resolved_database_url == "postgresql+psycopg://u@h/db"
    assert custom.resolved_vector_store_path == tmp_path / "elsewhere"


def test_relative_workspace_gives_absolute_sqlite_url(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings("rel-ws")
    assert s.resolved_database_url == f"sqlite:///{(tmp_path / 'rel-ws' / 'twin.db').resolve()}"
    assert s.resolved_database_url.startswith("sqlite:////")  # absolute: survives a later chdir


def test_set_config_value_keeps_other_keys(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    s = load_settings(ws)
    ensure_workspace(s)
    set_config_value(s, "retrieval_k", 6)
    set_config_value(s, "owner_name", "Dana")
    set_config_value(s, "retrieval_k", 8)  # overwrite, not duplicate
    data = tomllib.loads(s.config_file.read_text(encoding="utf-8"))
    assert data == {"embedding_model": DEFAULT_EMBEDDING_MODEL,
                    "generation_model": DEFAULT_GENERATION_MODEL,
                    "backend": "auto", "owner_name": "Dana", "retrieval_k": 8}
    reloaded = load_settings(ws)
    assert (reloaded.owner_name, reloaded.retrieval_k) == ("Dana", 8)


def test_set_config_value_without_existing_file(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    s = load_settings(ws)
    set_config_value(s, "owner_name", "Dana")
    assert tomllib.loads(s.config_file.read_text(encoding="utf-8")) == {"owner_name": "Dana"}

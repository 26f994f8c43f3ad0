"""config.toml and QUORUM_* overrides: complete defaults, env wins, a wrong key or type is named."""

from __future__ import annotations

import pytest

from server.config import REPO_ROOT, ConfigError, load


def test_the_shipped_config_loads_and_matches_the_defaults():
    config = load(REPO_ROOT / "config.toml", environ={})
    assert config.server.port == 8000 and config.queue.backend == "sqlite"
    assert config.database_url.startswith("sqlite:///") and config.database_url.endswith("quorum.db")


def test_environment_overrides_the_file(tmp_path):
    config = load(REPO_ROOT / "config.toml", environ={
        "QUORUM_SERVER_PORT": "9123", "QUORUM_DATABASE_URL": "postgresql://u@h/db", "QUORUM_DATA_DIR": str(tmp_path),
        "QUORUM_QUEUE_IMMEDIATE": "yes", "QUORUM_PLUGINS_DISABLED": "a, b", "QUORUM_OLLAMA_HOST": "http://x:1",
    })
    assert config.server.port == 9123 and config.queue.immediate is True
    assert config.database_url == "postgresql://u@h/db" and config.data_dir == tmp_path
    assert config.plugins.disabled == ["a", "b"]
    assert config.plugin_config("ollama") == {"host": "http://x:1"}


@pytest.mark.parametrize("text, named", [
    ("[server]\nprot = 1\n", "prot"),
    ("[server]\nport = 'many'\n", "server.port"),
    ("[nonsense]\nx = 1\n", "nonsense"),
    ("[queue]\nworkers = [1]\n", "queue.workers"),
])
def test_a_wrong_key_or_type_in_the_file_is_named(tmp_path, text, named):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load(path, environ={})


@pytest.mark.parametrize("name, value, named", [
    ("QUORUM_SERVER_PROT", "1", "QUORUM_SERVER_PROT"),
    ("QUORUM_SERVER_PORT", "eighty", "server.port"),
    ("QUORUM_NOPE", "1", "QUORUM_NOPE"),
    ("QUORUM_QUEUE_IMMEDIATE", "maybe", "QUORUM_QUEUE_IMMEDIATE"),
])
def test_a_wrong_environment_variable_is_named(name, value, named):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load(REPO_ROOT / "config.toml", environ={name: value})


def test_a_broken_toml_file_says_where(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[server\nport = 1\n")
    with pytest.raises(ConfigError, match="line 1"):
        load(path, environ={})

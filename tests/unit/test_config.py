from __future__ import annotations

import os
from pathlib import Path

import pytest

from collector import settings as collector_settings
from edge_agent import config as agent_config
from shared.config import ConfigError


def test_agent_example_config_is_valid(tmp_path: Path) -> None:
    example = Path(agent_config.__file__).with_name("agent.example.toml")
    cfg = agent_config.load(example, environ={})
    kinds = {s.kind for s in cfg.stations}
    assert {"http", "hls", "soundcard"} <= {k.value for k in kinds if k}


def test_env_overrides_file_and_nested_keys(tmp_path: Path) -> None:
    f = tmp_path / "a.toml"
    f.write_text('[collector]\nurl = "http://a:1"\n[[stations]]\nslug = "x"\nurl = "http://s/x"\n')
    cfg = agent_config.load(f, environ={"SODAV_AGENT_COLLECTOR__URL": "http://b:2/"})
    assert cfg.collector.url == "http://b:2"
    assert cfg.stations[0].kind == "http"


def test_errors_name_the_key_the_source_and_the_env_var(tmp_path: Path) -> None:
    f = tmp_path / "a.toml"
    f.write_text('[collector]\nurl = "ftp://nope"\nbogus = 1\n')
    with pytest.raises(ConfigError) as err:
        agent_config.load(f, environ={})
    text = str(err.value)
    assert "collector.url" in text and "http://" in text
    assert "collector.bogus" in text and "unknown key" in text
    assert "SODAV_AGENT_COLLECTOR__URL" in text
    assert str(f) in text


def test_station_needs_exactly_one_source(tmp_path: Path) -> None:
    f = tmp_path / "a.toml"
    f.write_text('[[stations]]\nslug = "x"\nurl = "http://s"\ndevice = 1\n')
    with pytest.raises(ConfigError, match="exactly one of url, device or path"):
        agent_config.load(f, environ={})


def test_missing_file_and_bad_toml_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        agent_config.load(tmp_path / "nope.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[collector\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        agent_config.load(bad, environ={})


def test_token_from_file_must_be_private(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    os.chmod(token, 0o644)
    cfg = agent_config.load(
        None, environ={"SODAV_AGENT_COLLECTOR__TOKEN_FILE": str(token), "SODAV_AGENT_DATA_DIR": str(tmp_path)}
    )
    with pytest.raises(ConfigError, match="chmod 600"):
        cfg.resolved_token()
    os.chmod(token, 0o600)
    secret = cfg.resolved_token()
    assert secret is not None and secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(cfg) and "s3cret" not in str(secret)


def test_secrets_are_not_echoed_in_errors() -> None:
    with pytest.raises(ConfigError) as err:
        collector_settings.load(None, environ={"SODAV_COLLECTOR_RECOGNIZERS__AUDD_TOKEN": "changeme"})
    assert "changeme" not in str(err.value)
    assert "placeholder" in str(err.value)


def test_collector_defaults_to_embedded_sqlite_and_accepts_postgres_urls() -> None:
    cfg = collector_settings.load(None, environ={})
    assert cfg.database_url.startswith("sqlite:///") and cfg.is_sqlite
    pg = collector_settings.load(None, environ={"SODAV_COLLECTOR_DATABASE_URL": "postgresql://u@h/db"})
    assert pg.database_url == "postgresql+psycopg://u@h/db"
    with pytest.raises(ConfigError, match="database_url"):
        collector_settings.load(None, environ={"SODAV_COLLECTOR_DATABASE_URL": "mysql://x"})


def test_collector_database_password_comes_from_a_private_file(tmp_path: Path) -> None:
    secret = tmp_path / "db-password"
    secret.write_text("s3cr:t/p@ss\n")
    secret.chmod(0o600)
    env = {
        "SODAV_COLLECTOR_DATABASE_URL": "postgresql://sodav@db.example:5432/sodav",
        "SODAV_COLLECTOR_DATABASE_PASSWORD_FILE": str(secret),
    }
    from sqlalchemy.engine import make_url

    url = make_url(collector_settings.load(None, environ=env).database_url)
    assert url.password == "s3cr:t/p@ss" and url.username == "sodav" and url.host == "db.example"
    secret.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600") as err:
        collector_settings.load(None, environ=env)
    assert "s3cr" not in str(err.value)
    with pytest.raises(ConfigError, match="database_password_file"):
        collector_settings.load(
            None, environ=env | {"SODAV_COLLECTOR_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
        )

"""Typed configuration common to both programs: TOML file + environment + secret files.

Precedence, highest first: environment variables (``SODAV_AGENT_…`` / ``SODAV_COLLECTOR_…``,
nested keys joined by ``__``), the TOML file, the defaults. A secret is never written in
the file itself: the file names ``token_file = "/etc/sodav/agent.token"``, or systemd
passes it as a credential (``$CREDENTIALS_DIRECTORY/<name>``).

:func:`load_settings` turns pydantic's validation errors into :class:`ConfigError`, whose
message names each bad key, where it came from, and what to do.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

__all__ = ["ConfigError", "load_settings", "read_secret", "redact"]

T = TypeVar("T", bound=BaseModel)
_SECRET_WORDS = re.compile(r"token|password|secret|key", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)[^@\s]*@")  # scheme://user:PASSWORD@host


def redact(value: object) -> str:
    """``repr(value)`` with the password of any ``scheme://user:password@host`` hidden."""
    return _URL_PASSWORD.sub(r"\1***@", repr(value))


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key and how to fix it."""


def read_secret(path: str | Path, what: str) -> SecretStr:
    """Read a secret from a file, refusing files others can read."""
    p = Path(path)
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if not p.is_absolute() and cred_dir:
        p = Path(cred_dir) / p
    try:
        mode = p.stat().st_mode
        text = p.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(f"{what}: file {p} does not exist; create it or fix the path") from None
    except PermissionError:
        raise ConfigError(
            f"{what}: cannot read {p} as this user; run as root (sudo), or check its owner and mode"
        ) from None
    if mode & 0o004:
        raise ConfigError(f"{what}: {p} is readable by everyone; run `chmod 600 {p}`")
    if not text:
        raise ConfigError(f"{what}: {p} is empty")
    return SecretStr(text)


def _set_path(tree: dict[str, Any], keys: list[str], value: str) -> None:
    node = tree
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[keys[-1]] = value


def _env_tree(prefix: str, environ: dict[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            keys = name[len(prefix) :].lower().split("__")
            if keys[0] == "config":  # the file's own path is not a setting
                continue
            _set_path(tree, keys, value)
    return tree


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(
    model: type[T],
    *,
    prefix: str,
    path: str | Path | None,
    environ: dict[str, str] | None = None,
) -> T:
    """Build ``model`` from the TOML file at ``path`` (optional) and ``prefix``-ed env vars."""
    env = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        p = Path(path)
        try:
            with p.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(
                f"configuration file {p} does not exist; copy the example next to the docs "
                f"or pass --config with the right path"
            ) from None
        except PermissionError:
            raise ConfigError(
                f"configuration file {p} cannot be read as this user; run as root (sudo), or check "
                "its owner and mode"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p} is not valid TOML: {exc}") from None
        source = str(p)
    data = _merge(data, _env_tree(prefix, env))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(part) for part in err["loc"]) or "(top level)"
            env_name = prefix + "__".join(str(p).upper() for p in err["loc"] if isinstance(p, str))
            hint = err["msg"]
            if err["type"] == "extra_forbidden":
                hint = "unknown key: check its spelling against the documented example"
            elif err["type"] == "missing":
                hint = "required: set it in the file or in the environment"
            value = err.get("input")
            if isinstance(value, dict) or not err["loc"]:
                lines.append(f"  {key}: {hint} (file {source})")
                continue
            shown = "***" if _SECRET_WORDS.search(key) else redact(value)
            lines.append(f"  {key} = {shown}: {hint} (file {source}, or env {env_name})")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None

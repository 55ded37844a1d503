"""shared.__all__ lists every public name of every shared module."""

from __future__ import annotations

import importlib
import pkgutil

import shared


def test_all_is_complete_and_importable() -> None:
    missing = []
    for info in pkgutil.iter_modules(shared.__path__):
        module = importlib.import_module(f"shared.{info.name}")
        for name in getattr(module, "__all__", []):
            if name not in shared.__all__:
                missing.append(f"shared.{info.name}.{name}")
    assert missing == [], f"add to shared.__all__: {missing}"
    for name in shared.__all__:
        assert hasattr(shared, name), name

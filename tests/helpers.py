"""Assertions shared by the tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chain_client.errors import ContractRevert


def reverts(action: Callable[[], Any], name: str, **expected_args: Any) -> ContractRevert:
    """Runs ``action``, asserts it reverts with custom error ``name`` and (some of) its arguments."""
    with pytest.raises(ContractRevert) as info:
        action()
    error = info.value
    assert error.name == name, f"expected {name}, got {error}"
    for key, value in expected_args.items():
        got = error.args_by_name[key]
        if isinstance(value, str) and isinstance(got, str):
            assert got.lower() == value.lower(), f"{name}.{key}: expected {value}, got {got}"
        else:
            assert got == value, f"{name}.{key}: expected {value!r}, got {got!r}"
    return error


def chromium() -> Path:
    """Debian's Chromium, which ``./scripts/setup`` installs: a browser test without it fails (a failed setup), it is
    never skipped."""
    path = Path("/usr/bin/chromium")
    assert path.is_file(), "Debian's chromium is not installed: run ./scripts/setup (it installs it)"
    return path

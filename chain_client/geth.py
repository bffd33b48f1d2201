"""Where the go-ethereum binary lives: built once per machine by ``scripts/setup`` into a cache keyed by version.

go-ethereum v1.13.15 is the last release that seals Clique proof-of-authority blocks (later releases removed
sealing). It is built from the Go module proxy with ``go install`` into ``~/.cache/battery-ledger/geth-v1.13.15/bin``
(outside the checkout, so every clone on the machine shares it). ``BLEDGER_GETH`` names another binary.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from chain_client.errors import LedgerError

GETH_VERSION = "v1.13.15"
GETH_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "battery-ledger" / f"geth-{GETH_VERSION}"


class GethNotInstalled(LedgerError):
    """The geth binary is missing."""


def geth_binary() -> Path:
    """The geth binary to run: ``$BLEDGER_GETH`` or the cached build; a clear error when neither exists."""
    override = os.environ.get("BLEDGER_GETH")
    path = Path(override) if override else GETH_CACHE / "bin" / "geth"
    if not path.is_file() or not os.access(path, os.X_OK):
        raise GethNotInstalled(f"geth {GETH_VERSION} not found at {path}: run ./scripts/setup (it builds it once, "
                               "about 8 minutes) or set BLEDGER_GETH")
    return path


def geth_version(binary: Path) -> str:
    """``1.13.15-stable`` as the binary reports it."""
    out = subprocess.run([str(binary), "version"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    raise LedgerError(f"{binary} did not report a version")

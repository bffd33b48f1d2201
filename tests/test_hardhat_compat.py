"""hardhat_compat/: the Hardhat build equals the Python build byte for byte, and the two sides share deployments."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from chain_client.build import Artifact, all_artifacts
from chain_client.hardhat import HARDHAT_DIR, hardhat, node22_env, read_artifacts
from chain_client.keys import dev_accounts
from chain_client.suite import Deployment, Ledger
from chain_client.transactions import TxSender
from chain_client.vocabulary import BusinessRole, LotStatus
from tests.conftest import World


@pytest.fixture(scope="module")
def hardhat_build() -> dict[str, Artifact]:
    hardhat("build")
    return read_artifacts()


def test_hardhat_bytecode_equals_the_python_build(hardhat_build: dict[str, Artifact]) -> None:
    ours = all_artifacts()
    assert set(ours) == set(hardhat_build), "both builds must hold the same contracts"
    for name, artifact in ours.items():
        theirs = hardhat_build[name]
        assert theirs.bytecode == artifact.bytecode, f"{name}: creation bytecode differs"
        assert theirs.deployed_bytecode == artifact.deployed_bytecode, f"{name}: runtime bytecode differs"
        assert theirs.abi == artifact.abi, f"{name}: ABI differs"
        assert theirs.source_name == artifact.source_name


def test_hardhat_compiles_the_same_files_with_the_same_pins() -> None:
    link = HARDHAT_DIR / "contracts"
    assert link.is_symlink() and link.resolve() == (HARDHAT_DIR.parent / "contracts").resolve()
    ours = json.loads((HARDHAT_DIR.parent / "package-lock.json").read_text())["packages"]
    theirs = json.loads((HARDHAT_DIR / "package-lock.json").read_text())["packages"]
    for package in ("node_modules/solc", "node_modules/@openzeppelin/contracts"):
        assert ours[package]["version"] == theirs[package]["version"], package


def test_python_writes_and_reads_hardhat_artifacts(hardhat_build: dict[str, Artifact]) -> None:
    for artifact in all_artifacts().values():
        assert Artifact.from_hardhat(artifact.to_hardhat()) == artifact
        assert artifact.to_hardhat()["_format"] == "hh-sol-artifact-1"
    with pytest.raises(Exception, match="not a Hardhat artifact"):
        Artifact.from_hardhat({"_format": "truffle", "contractName": "X"})


def test_python_attaches_to_a_suite_hardhat_deployed(tmp_path: Path, anvil_node: AnvilNode,
                                                     hardhat_build: dict[str, Artifact]) -> None:
    gov, moe, motie, molit, recycler = dev_accounts(5)
    out = tmp_path / "deployment.json"
    hardhat("run", "scripts/deploy.ts", "--network", "rpc", env={
        "BLEDGER_RPC": anvil_node.url, "BLEDGER_DEPLOYER_KEY": gov.key.hex(), "BLEDGER_DEPLOYMENT": str(out),
        "BLEDGER_MOE": moe.address, "BLEDGER_MOTIE": motie.address, "BLEDGER_MOLIT": molit.address})
    deployment = Deployment.load(out)
    assert (deployment.tool, deployment.deployer) == ("hardhat", gov.address)
    assert deployment.governance == deployment.committee["timelock"] == deployment.contracts["PolicyTimelock"]
    backend = RpcBackend(anvil_node.url)
    sender = TxSender(backend.w3)
    ledger = Ledger(backend.w3, deployment, sender)
    for name, address in deployment.contracts.items():
        assert backend.w3.eth.get_code(backend.w3.to_checksum_address(address)), f"{name} has no code"
    assert ledger.claims.milestone_years() == [2031, 2036]
    assert ledger.logistics.max_soc_bps() == 3_000
    assert ledger.registry.governance_admin() == deployment.governance
    assert (ledger.committee.threshold(), sorted(ledger.committee.members())) == (2, sorted([moe.address, motie.address,
                                                                                            molit.address]))
    assert not ledger.committee.has_role("PROPOSER_ROLE", gov.address)
    ledger.registry.register(moe, recycler.address, [BusinessRole.RECYCLER])
    assert ledger.registry.is_active(recycler.address, BusinessRole.RECYCLER)
    assert ledger.certificates.lot(1).status == LotStatus.NONE


def test_hardhat_javascript_suite_passes() -> None:
    out = hardhat("test", "mocha")
    assert "3 passing" in out and "failing" not in out


def test_a_python_deployment_file_is_what_hardhat_writes(world: World, tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    world.deployment.save(path)
    data = json.loads(path.read_text())
    assert set(data) >= {"chainId", "contracts", "governance", "blockNumber", "deployer", "tool"}
    assert Deployment.load(path).contracts == world.deployment.contracts


def test_slither_finds_no_high_or_medium_issue_in_our_contracts(hardhat_build: dict[str, Artifact]) -> None:
    """Slither over the Hardhat build (node_modules filtered out); ``--fail-medium`` exits non-zero on any finding
    of medium or high severity."""
    slither = HARDHAT_DIR.parent / ".venv-slither" / "bin" / "slither"
    assert slither.is_file(), "run ./scripts/setup (it installs Slither in .venv-slither)"
    proc = subprocess.run(
        [str(slither), ".", "--filter-paths", "node_modules", "--exclude-low", "--exclude-informational",
         "--exclude-optimization", "--fail-medium"],
        cwd=HARDHAT_DIR, env=node22_env(), capture_output=True, text=True, timeout=600, check=False)
    report = proc.stdout + proc.stderr
    assert "analyzed" in report, report
    assert proc.returncode == 0, report
    assert "0 result(s) found" in report, report

"""Fault injection on a real node: anvil persisting its state every second (``--state FILE --state-interval 1``) is
killed with SIGKILL in the middle of an import and of an oracle submission, and restarted from an older state (as
any node can lose its last blocks). Rerunning the same command then leaves 0 batteries missing, 0 anchored twice,
no batch id taken for another root, and the oracle device usable."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chain_client.anvil import AnvilNode, free_port
from chain_client.backends import NodeUnavailable, RpcBackend
from chain_client.battery_import import import_file
from chain_client.battery_index import BatteryIndex
from chain_client.battery_reconcile import reconcile
from chain_client.deployment_check import DeploymentMismatch, verify_deployment
from chain_client.merkle import MerkleTree, keccak
from chain_client.passports import battery_id
from chain_client.suite import Deployment, Ledger
from chain_client.transactions import TxSender
from oracles.journal import Journal
from oracles.pipeline import process_file
from oracles.signer import ReportSigner
from oracles.submitter import BatchSubmitter
from chain_client.passports import ModelSpec
from chain_client.vocabulary import BatteryCategory
from tests.conftest import MODEL, MODEL_METALS, MODEL_NAME, World, _base_state

STATE_INTERVAL = 1.0


class RestartableNode:
    """An anvil node on a fixed port that persists its state, can be killed with SIGKILL and restarted from any
    saved copy of its state file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state = folder / "state.json"
        self.port = free_port()
        self.node = self._start(self.state)

    def _start(self, state: Path) -> AnvilNode:
        return AnvilNode(port=self.port,
                         extra_args=["--state", str(state), "--state-interval", str(int(STATE_INTERVAL))])

    @property
    def url(self) -> str:
        return self.node.url

    def save_copy(self, name: str) -> Path:
        """A copy of the state as the node last persisted it (waits for the next dump first)."""
        time.sleep(STATE_INTERVAL + 0.6)
        copy = self.folder / name
        shutil.copy(self.state, copy)
        return copy

    def kill(self) -> None:
        proc = self.node._proc
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    def restart_from(self, copy: Path) -> None:
        shutil.copy(copy, self.state)
        self.node = self._start(self.state)

    def stop(self) -> None:
        self.node.stop()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[RestartableNode]:
    n = RestartableNode(tmp_path)
    yield n
    n.stop()


def attach(url: str, deployment: Deployment) -> Ledger:
    """What every command does on start: a new connection, the deployment checked against the chain."""
    backend = RpcBackend(url, timeout=5)
    verify_deployment(backend.w3, deployment)
    return Ledger(backend.w3, deployment, TxSender(backend.w3))


def write_csv(path: Path, count: int) -> Path:
    lines = ["batteryPassportIdentifier,batteryModel"] + [f"KR:KCELL:EV:{i:07d},{MODEL_NAME}"
                                                          for i in range(1, count + 1)]
    path.write_text("\n".join(lines) + "\n")
    return path


def on_chain_batches(ledger: Ledger, maker: str) -> dict[bytes, int]:
    return ledger.passports.batches_anchored_by(maker)


def test_node_killed_mid_import_and_restarted_older_loses_no_battery(node: RestartableNode, tmp_path: Path) -> None:
    world = _base_state(RpcBackend(node.url))
    maker = world.cell_maker
    source = write_csv(tmp_path / "batteries.csv", 2_000)
    data = tmp_path / "data"
    index = BatteryIndex(data / "index.sqlite")
    copies: list[Path] = []

    def progress_then_faults(line: int) -> None:
        # after the 2nd batch: remember the state; after the 5th: SIGKILL the node (3 batches will be lost)
        if line == 2 * 200 + 1:
            copies.append(node.save_copy("after-2-batches.json"))
        if line == 5 * 200 + 1:
            node.kill()

    with pytest.raises(NodeUnavailable, match="cannot reach the node"):
        import_file(source, world.ledger.passports, maker, index, data / "batches", 200, progress_then_faults)
    assert len(index.batches()) == 5  # the index journaled 5 batches, the node (restarted) will have 2

    node.restart_from(copies[0])
    ledger = attach(node.url, world.deployment)
    assert ledger.passports.batch_count() == 2
    # meanwhile another manufacturer's batch takes id 3, which the index gave to one of the lost batches
    other_model = ledger.passports.register_model(world.cell_maker2, "KR:OTHER:MODEL-X",
                                                  ModelSpec(BatteryCategory.EV, MODEL_METALS, 60_000))
    other_id = ledger.passports.anchor_batch(world.cell_maker2, other_model, b"\x77" * 32, 9)
    assert other_id == 3

    report = import_file(source, ledger.passports, maker, index, data / "batches", 200)
    assert report.reconciled is not None
    assert [(old, count) for old, _, count in report.reconciled.reanchored] == [(3, 200), (4, 200), (5, 200)]
    assert report.batteries == 1_000 and report.skipped_lines == 1_001

    # 0 missing, 0 anchored twice, every indexed id is its root's id on chain, id 3 still the other root
    chain = on_chain_batches(ledger, maker.address)
    indexed = {b.root: b.batch_id for b, _ in index.batches()}
    assert indexed == chain and len(chain) == 10
    assert sum(ledger.passports.batch(i).count for i in chain.values()) == 2_000
    assert ledger.passports.batch(3).root == b"\x77" * 32
    for n in (1, 450, 999, 1_500, 2_000):
        ident = f"KR:KCELL:EV:{n:07d}"
        batch = index.batch_of(battery_id(ident))
        assert batch is not None
        identifiers = batch.data_file.read_text().splitlines()
        tree = MerkleTree(keccak(i.encode()) for i in identifiers)
        assert ledger.passports.is_in_batch(batch.batch_id, battery_id(ident), tree.proof(battery_id(ident)))
    again = reconcile(index, ledger.passports, maker, data / "batches")
    assert (again.confirmed, again.changed) == (10, False)
    index.close()


def in_service(world: World, count: int) -> list[str]:
    idents = [f"KR:KCELL:EV:{i:07d}" for i in range(1, count + 1)]
    p = world.ledger.passports
    for ident in idents:
        bid = battery_id(ident)
        p.register(world.cell_maker, ident, MODEL)
        p.transfer(world.cell_maker, bid, world.ev_maker.address)
        p.put_in_service(world.ev_maker, bid, b"\x0e" * 32)
    return idents


def readings(path: Path, idents: list[str], start: int, count: int) -> Path:
    header = ("batteryPassportIdentifier,stateOfHealth,remainingCapacity,internalResistanceIncrease,cycleCount,"
              "faultFlags,measuredAt\n")
    rows = [f"{idents[i % len(idents)]},{80 - (i % 30) / 10:.1f},60,10,{100 + i},,2026-11-20T{(i // 60) % 24:02d}:"
            f"{i % 60:02d}:00" for i in range(start, start + count)]
    path.write_text(header + "\n".join(rows) + "\n")
    return path


def oracle_for(ledger: Ledger, world: World, journal: Journal,
               sleep: Callable[[float], None] = lambda s: None) -> tuple[ReportSigner, BatchSubmitter]:
    chain_id = ledger.w3.eth.chain_id
    signer = ReportSigner(world.device, ledger.evaluations, chain_id, journal)
    return signer, BatchSubmitter(ledger.evaluations, world.portal, journal, world.device.address, 50, attempts=2,
                                  sleep=sleep)


def test_node_killed_mid_oracle_submit_and_restarted_older_leaves_the_device_usable(
        node: RestartableNode, tmp_path: Path) -> None:
    world = _base_state(RpcBackend(node.url))
    idents = in_service(world, 3)
    journal = Journal(tmp_path / "oracle.sqlite")
    signer, submitter = oracle_for(world.ledger, world, journal)
    first = process_file(readings(tmp_path / "day1.csv", idents, 0, 100), signer, submitter)
    assert first.recorded == 100
    copy = node.save_copy("after-day1.json")

    # day 2: 150 readings in batches of 50; the node is killed after the 2nd batch went through
    sent: list[int] = []
    original = submitter.evaluations.submit_reports

    def submit_then_kill(relayer, batch, gas=None):  # type: ignore[no-untyped-def]
        receipt = original(relayer, batch, gas)
        sent.append(len(batch))
        if len(sent) == 2:
            node.kill()
        return receipt

    submitter.evaluations.submit_reports = submit_then_kill  # type: ignore[method-assign]
    with pytest.raises(NodeUnavailable):
        process_file(readings(tmp_path / "day2.csv", idents, 100, 150), signer, submitter)
    assert journal.highest_nonce(world.device.address) == 249

    node.restart_from(copy)  # the chain is back at nonce 100; the journal says 200 were recorded
    ledger = attach(node.url, world.deployment)
    assert ledger.evaluations.nonce(world.device.address) == 100
    signer, submitter = oracle_for(ledger, world, journal)
    again = process_file(tmp_path / "day2.csv", signer, submitter)
    assert (again.recorded, again.already_recorded) == (150, 0)
    assert ledger.evaluations.nonce(world.device.address) == 250

    # the device stays usable: new readings continue at the chain's nonce
    third = process_file(readings(tmp_path / "day3.csv", idents, 250, 10), signer, submitter)
    assert third.recorded == 10 and ledger.evaluations.nonce(world.device.address) == 260
    assert process_file(tmp_path / "day1.csv", signer, submitter).recorded == 0  # still exactly once
    journal.close()


def test_a_reset_chain_is_refused_before_any_write(node: RestartableNode, tmp_path: Path) -> None:
    world = _base_state(RpcBackend(node.url))
    node.kill()
    node.state.unlink(missing_ok=True)
    node.node = node._start(node.state)  # a chain with the same id and none of the deployment's code
    backend = RpcBackend(node.url)
    with pytest.raises(DeploymentMismatch, match="no contract code at BatteryLedgerForwarder"):
        verify_deployment(backend.w3, world.deployment)

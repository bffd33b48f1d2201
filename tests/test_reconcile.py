"""Local state against the chain: the battery index and the oracle journal are reconciled when the chain lost blocks
(a snapshot revert stands for a node restarted from an older state), the index is rebuilt from the batch files and
the chain's events, and an import refuses an empty index while the manufacturer has batches on chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chain_client.battery_import import import_file
from chain_client.battery_index import BatteryIndex
from chain_client.battery_reconcile import FILE_MISSING, batch_file, rebuild_index, reconcile
from chain_client.errors import LedgerError
from chain_client.passports import battery_id
from oracles.journal import Journal
from oracles.pipeline import process_file
from oracles.readers import read_measurements
from oracles.reconcile import reconcile_journal
from oracles.signer import ReportSigner
from oracles.submitter import BatchSubmitter
from tests.conftest import MODEL, MODEL_METALS, World
from tests.test_battery_import import ids, write_csv


def _import(world: World, path: Path, index: BatteryIndex, data: Path, size: int = 300) -> object:
    return import_file(path, world.ledger.passports, world.cell_maker, index, data / "batches", size)


def test_batches_the_chain_lost_are_re_anchored_and_ids_are_never_reused(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    index = BatteryIndex(data / "index.sqlite")
    p = world.ledger.passports
    _import(world, write_csv(tmp_path / "a.csv", ids(1, 600)), index, data)  # batches 1, 2 (and earlier ones)
    lost_point = world.backend.snapshot()
    _import(world, write_csv(tmp_path / "b.csv", ids(601, 600)), index, data)
    lost = [b.batch_id for b, _ in index.batches()][-2:]
    world.backend.revert(lost_point)  # the node lost the last two batches
    world.sender.nonces.reset()
    # someone else's batch now holds the first lost id
    other = p.anchor_batch(world.cell_maker2, MODEL_OTHER(world), b"\x42" * 32, 3)
    assert other == lost[0]

    report = reconcile(index, p, world.cell_maker, data / "batches")
    assert [(old, count) for old, _, count in report.reanchored] == [(lost[0], 300), (lost[1], 300)]
    assert report.confirmed == 2 and not report.lost and not report.unknown
    chain = p.batches_anchored_by(world.cell_maker.address)
    assert {b.root: b.batch_id for b, _ in index.batches()} == chain
    assert p.batch(other).root == b"\x42" * 32  # the other root keeps its id
    assert "was not on chain: re-anchored as #" in "\n".join(report.lines())
    again = reconcile(index, p, world.cell_maker, data / "batches")
    assert (again.confirmed, again.changed) == (4, False)
    index.close()


def MODEL_OTHER(world: World) -> bytes:  # noqa: N802 - a model of the second cell maker
    from chain_client.passports import ModelSpec
    from chain_client.vocabulary import BatteryCategory

    return world.ledger.passports.register_model(world.cell_maker2, "KR:OTHER:MODEL-X",
                                                 ModelSpec(BatteryCategory.EV, MODEL_METALS, 60_000))


def test_an_empty_index_is_refused_then_rebuilt_and_the_import_resumes(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    source = write_csv(tmp_path / "a.csv", ids(1, 900))
    index = BatteryIndex(data / "index.sqlite")
    _import(world, source, index, data)
    index.close()
    (data / "index.sqlite").unlink()
    for suffix in ("-wal", "-shm"):
        (data / f"index.sqlite{suffix}").unlink(missing_ok=True)
    count = world.ledger.passports.batch_count()

    empty = BatteryIndex(data / "index.sqlite")
    with pytest.raises(LedgerError, match=r"index .*index.sqlite is empty but 0x[0-9a-fA-F]{40} has 3 batches on "
                                          r"chain: rebuild it first with `bledger battery index rebuild --data "):
        _import(world, source, empty, data, size=250)  # another batch size: it would anchor all again
    empty.close()
    assert world.ledger.passports.batch_count() == count

    report = rebuild_index(data / "index.sqlite", world.ledger.passports, world.cell_maker.address, data / "batches",
                           data / "models")
    assert (report.batches, report.batteries, report.missing_files) == (3, 900, [])
    index = BatteryIndex(data / "index.sqlite")
    again = _import(world, source, index, data, size=250)
    assert (again.batches, again.skipped_lines) == (0, 901)  # type: ignore[attr-defined]
    assert world.ledger.passports.batch_count() == count and index.count() == 900
    index.close()


def test_a_rebuild_names_the_missing_batch_files(world: World, tmp_path: Path) -> None:
    data = tmp_path / "data"
    index = BatteryIndex(data / "index.sqlite")
    _import(world, write_csv(tmp_path / "a.csv", ids(1, 600)), index, data)
    first = index.batches()[0][0]
    index.close()
    batch_file(data / "batches", first.root).unlink()
    report = rebuild_index(data / "index.sqlite", world.ledger.passports, world.cell_maker.address, data / "batches",
                           data / "models")
    assert report.batches == 1 and report.missing_files == [(first.batch_id, batch_file(data / "batches",
                                                                                         first.root))]
    assert f"batch #{first.batch_id}: batch file" in "\n".join(report.lines())
    assert report.previous is not None and report.previous.exists()
    rebuilt = BatteryIndex(data / "index.sqlite")
    assert [origin for _, origin in rebuilt.batches()] == [FILE_MISSING, "rebuilt"]
    assert rebuilt.batch_of(battery_id(ids(1, 1)[0])) is None and rebuilt.count() == 300
    rebuilt.close()


@pytest.mark.parametrize("base_world", ["anvil"], indirect=True)  # the CLI talks to a node: anvil only
def test_battery_reconcile_and_index_rebuild_commands(world: World, tmp_path: Path) -> None:
    from chain_client.cli import app

    runner = CliRunner()
    dep = tmp_path / "deployment.json"
    world.deployment.save(dep)
    key = "dev:" + str(list(world.accounts).index("cell_maker"))
    url = world.backend.url  # type: ignore[attr-defined]
    common = ["--rpc", url, "--deployment", str(dep), "--data", str(tmp_path / "data")]
    source = write_csv(tmp_path / "a.csv", ids(1, 400))
    result = runner.invoke(app, ["battery", "import", str(source), "--batch-size", "200", "--key", key, *common])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["battery", "reconcile", "--key", key, *common])
    assert result.exit_code == 0 and "2 indexed batches checked against the chain: 2 confirmed" in result.output
    assert "nothing to fix" in result.output
    result = runner.invoke(app, ["battery", "index", "rebuild", "--key", key, *common])
    assert result.exit_code == 0 and "index rebuilt: 2 batches, 400 batteries from batch files" in result.output


def test_the_oracle_journal_follows_a_chain_that_lost_reports(world: World, tmp_path: Path) -> None:
    p = world.ledger.passports
    idents = ids(1, 2)
    for ident in idents:
        bid = battery_id(ident)
        p.register(world.cell_maker, ident, MODEL)
        p.transfer(world.cell_maker, bid, world.ev_maker.address)
        p.put_in_service(world.ev_maker, bid, b"\x0e" * 32)
    journal = Journal(tmp_path / "oracle.sqlite")
    signer = ReportSigner(world.device, world.ledger.evaluations, world.sender.chain_id, journal)
    submitter = BatchSubmitter(world.ledger.evaluations, world.portal, journal, world.device.address, 2,
                               sleep=lambda s: None)
    header = ("batteryPassportIdentifier,stateOfHealth,remainingCapacity,internalResistanceIncrease,cycleCount,"
              "faultFlags,measuredAt\n")

    def readings(name: str, start: int, count: int) -> Path:
        path = tmp_path / name
        path.write_text(header + "".join(f"{idents[i % 2]},80,60,10,{i},,2026-11-20T09:{i:02d}:00\n"
                                         for i in range(start, start + count)))
        return path

    base = world.ledger.evaluations.nonce(world.device.address)
    process_file(readings("one.csv", 0, 4), signer, submitter)
    lost_point = world.backend.snapshot()
    process_file(readings("two.csv", 4, 4), signer, submitter)
    world.backend.revert(lost_point)  # the node lost the last 4 reports
    world.sender.nonces.reset()

    found = reconcile_journal(signer)
    assert (found.chain_nonce, found.requeued, found.resigned, found.pending) == (base + 4, 4, 0, 4)
    assert "4 reports journaled as recorded are not on chain" in "\n".join(found.lines())
    again = process_file(tmp_path / "two.csv", signer, submitter)
    assert again.recorded == 4 and world.ledger.evaluations.nonce(world.device.address) == base + 8
    # a gap (the journal lost the row of the next nonce): the reports after it are re-signed from the chain's nonce
    three = readings("three.csv", 8, 3)
    for m in read_measurements(three):
        signer.sign(m)
    journal.db.execute("DELETE FROM reports WHERE nonce = ?", (base + 8,))
    gap = reconcile_journal(signer)
    assert (gap.chain_nonce, gap.resigned, gap.pending) == (base + 8, 2, 2)
    assert [s.report.nonce for s in journal.pending(world.device.address)] == [base + 8, base + 9]
    last = process_file(readings("four.csv", 11, 1), signer, submitter)  # the re-signed ones go first
    assert last.recorded == 3 and world.ledger.evaluations.nonce(world.device.address) == base + 11
    journal.close()

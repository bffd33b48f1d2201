"""Bulk registration from files: batches, proofs, resume without duplicates, all-or-nothing per batch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain_client.battery_files import FileFormatError
from chain_client.battery_import import DuplicateBattery, ImportReport, import_file, proof_for
from chain_client.battery_index import BatteryIndex
from chain_client.errors import LedgerError
from chain_client.passports import battery_id
from chain_client.vocabulary import BatteryStatus
from tests.conftest import World

from tests.conftest import MODEL_NAME  # noqa: E402


def write_csv(path: Path, ids: list[str], model: str = MODEL_NAME, extra: str = "") -> Path:
    path.write_text("batteryPassportIdentifier,batteryModel,productionLine\n"
                    + "".join(f"{i},{model},LINE-2\n" for i in ids) + extra)
    return path


def ids(start: int, count: int) -> list[str]:
    return [f"KR:KCELL:EV:{i:07d}" for i in range(start, start + count)]


@pytest.fixture
def index(tmp_path: Path) -> Iterator[BatteryIndex]:
    idx = BatteryIndex(tmp_path / "data" / "index.sqlite")
    yield idx
    idx.close()


def run_import(world: World, path: Path, index: BatteryIndex, tmp_path: Path, batch_size: int = 1_000) -> ImportReport:
    return import_file(path, world.ledger.passports, world.cell_maker, index, tmp_path / "data" / "batches",
                       batch_size)


def test_import_anchors_batches_and_every_battery_is_provable(world: World, tmp_path: Path,
                                                              index: BatteryIndex) -> None:
    names = ids(1, 2_500)
    report = run_import(world, write_csv(tmp_path / "b.csv", names), index, tmp_path)
    assert (report.batches, report.batteries) == (3, 2_500)
    p = world.ledger.passports
    assert [p.batch(b).count for b in report.batch_ids] == [1_000, 1_000, 500]
    for name in (names[0], names[1_234], names[-1]):
        batch, proof = proof_for(index, name)
        assert p.is_in_batch(batch.batch_id, battery_id(name), proof)
    # the batch file is bound to the chain by hash
    batch, _ = proof_for(index, names[0])
    from chain_client.merkle import keccak
    assert keccak(batch.data_file.read_bytes()) == p.batch(batch.batch_id).data_hash
    # a batch battery gets its own record on its first act
    batch, proof = proof_for(index, names[5])
    p.materialize(world.stranger, batch.batch_id, names[5], proof)
    assert p.battery(battery_id(names[5])).status == BatteryStatus.ORIGINAL


def test_resume_after_interruption_skips_done_batches(world: World, tmp_path: Path, index: BatteryIndex) -> None:
    path = write_csv(tmp_path / "b.csv", ids(1, 2_500))
    calls = []

    def stop_after_first(line: int) -> None:
        calls.append(line)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(path, world.ledger.passports, world.cell_maker, index, tmp_path / "data" / "batches", 1_000,
                    stop_after_first)
    assert world.ledger.passports.batch_count() == 1 and index.count() == 1_000
    report = run_import(world, path, index, tmp_path)
    assert (report.batches, report.skipped_lines, report.resumed_batches) == (2, 1_001, 0)
    assert world.ledger.passports.batch_count() == 3 and index.count() == 2_500
    again = run_import(world, path, index, tmp_path)
    assert (again.batches, world.ledger.passports.batch_count()) == (0, 3)


def test_a_batch_mined_before_a_crash_is_not_anchored_twice(world: World, tmp_path: Path, index: BatteryIndex,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "b.csv", ids(1, 1_500))
    original = BatteryIndex.add_batch
    seen = []

    def crash_on_second(self: BatteryIndex, batch, origin):  # type: ignore[no-untyped-def]
        seen.append(batch)
        if len(seen) == 2:
            raise RuntimeError("power cut")  # the transaction is mined, the journal is not written
        original(self, batch, origin)

    monkeypatch.setattr(BatteryIndex, "add_batch", crash_on_second)
    with pytest.raises(RuntimeError, match="power cut"):
        run_import(world, path, index, tmp_path)
    monkeypatch.setattr(BatteryIndex, "add_batch", original)
    assert world.ledger.passports.batch_count() == 2 and index.count() == 1_000
    report = run_import(world, path, index, tmp_path)
    # the reconciliation at the start finds the mined batch on chain and indexes it from its batch file
    assert report.reconciled is not None and report.reconciled.adopted == [(2, 500)]
    assert (report.batches, report.skipped_lines) == (0, 1_501)
    assert world.ledger.passports.batch_count() == 2 and index.count() == 1_500


def test_malformed_line_stops_with_file_and_line_and_imports_nothing_of_its_batch(
        world: World, tmp_path: Path, index: BatteryIndex) -> None:
    names = ids(1, 1_500)
    names[1_200] = "kr:lower-case"
    path = write_csv(tmp_path / "b.csv", names)
    with pytest.raises(FileFormatError, match=r"b\.csv:1202: batteryPassportIdentifier 'kr:lower-case'") as info:
        run_import(world, path, index, tmp_path)
    assert info.value.line == 1_202
    assert world.ledger.passports.batch_count() == 1 and index.count() == 1_000
    bad = tmp_path / "c.csv"
    bad.write_text("batteryPassportIdentifier,batteryModel\nKR:1,M\nKR:2\n")
    with pytest.raises(FileFormatError, match=r"c\.csv:3: 1 fields, the header has 2"):
        run_import(world, bad, index, tmp_path)
    bad.write_text("serial,batteryModel\nKR:1,M\n")
    with pytest.raises(FileFormatError, match="header lacks column batteryPassportIdentifier"):
        run_import(world, bad, index, tmp_path)
    with pytest.raises(LedgerError, match="unknown file type"):
        run_import(world, tmp_path / "data" / "index.sqlite", index, tmp_path)


def test_duplicates_are_refused(world: World, tmp_path: Path, index: BatteryIndex) -> None:
    names = ids(1, 10)
    with pytest.raises(DuplicateBattery, match=r"d\.csv:5: KR:KCELL:EV:0000002 repeats line 3"):
        run_import(world, write_csv(tmp_path / "d.csv", names[:3] + [names[1]] + names[3:]), index, tmp_path)
    assert world.ledger.passports.batch_count() == 0
    run_import(world, write_csv(tmp_path / "first.csv", names), index, tmp_path)
    with pytest.raises(DuplicateBattery, match=r"second\.csv:3: KR:KCELL:EV:0000009 is already registered "
                                               r"\(first\.csv:10\)"):
        run_import(world, write_csv(tmp_path / "second.csv", ids(20, 1) + [names[8]]), index, tmp_path)
    assert world.ledger.passports.batch_count() == 1 and index.count() == 10


def test_unknown_model_and_jsonl(world: World, tmp_path: Path, index: BatteryIndex) -> None:
    with pytest.raises(FileFormatError, match="model 'NO MODEL' is not registered on-chain"):
        run_import(world, write_csv(tmp_path / "m.csv", ids(1, 3), model="NO MODEL"), index, tmp_path)
    lines = [json.dumps({"batteryPassportIdentifier": i, "batteryModel": MODEL_NAME}) for i in ids(1, 30)]
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert run_import(world, path, index, tmp_path, batch_size=7).batches == 5
    path.write_text(lines[0] + "\n{broken\n")
    with pytest.raises(FileFormatError, match=r"b\.jsonl:2: invalid JSON"):
        run_import(world, path, index, tmp_path)


def test_a_repeat_across_batches_of_one_run_is_refused_before_its_batch_is_anchored(
        world: World, tmp_path: Path, index: BatteryIndex) -> None:
    names = ids(1, 6)
    path = write_csv(tmp_path / "r.csv", names + [names[2]] + ids(100, 3))  # line 8 repeats line 4, in batch 2
    with pytest.raises(DuplicateBattery, match=r"r\.csv:8: KR:KCELL:EV:0000003 is already registered \(r\.csv:4\)"):
        import_file(path, world.ledger.passports, world.cell_maker, index, tmp_path / "data" / "batches", 6)
    assert world.ledger.passports.batch_count() == 1 and index.count() == 6
    assert not index.has_staged()  # merged when the import stopped


def test_batteries_staged_by_an_interrupted_import_are_found_and_merged_by_the_next(
        world: World, tmp_path: Path, index: BatteryIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    names = ids(1, 30)
    path = write_csv(tmp_path / "s.csv", names)

    def stop(line: int) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(BatteryIndex, "merge_staged", lambda self: 0)  # killed: nothing merges the staged rows
        with pytest.raises(KeyboardInterrupt):
            import_file(path, world.ledger.passports, world.cell_maker, index, tmp_path / "data" / "batches", 10,
                        stop)
    assert index.has_staged() and index.count() == 10
    staged = battery_id(names[3])
    batch = index.batch_of(staged)
    assert batch is not None and batch.count == 10 and index.identifier_of(staged) == names[3]
    assert index.find_existing([staged]) == {staged: "s.csv:5"}
    report = run_import(world, path, index, tmp_path, batch_size=10)
    assert (report.batches, report.skipped_lines) == (2, 11)
    assert not index.has_staged() and index.count() == 30
    assert index.find_merged([staged]) == {staged: "s.csv:5"}
    proof_batch, proof = proof_for(index, names[3])
    assert world.ledger.passports.is_in_batch(proof_batch.batch_id, staged, proof)

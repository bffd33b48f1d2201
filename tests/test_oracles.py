"""The oracle: file validation, device signing, batched relaying with retries, exactly-once recording, watching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account

from chain_client.errors import LedgerError
from chain_client.evaluations import Grade
from chain_client.passports import battery_id
from chain_client.rules import FaultFlag
from oracles.journal import Journal
from oracles.pipeline import process_file
from oracles.readers import MeasurementFileError, read_measurements
from oracles.signer import ReportSigner
from oracles.submitter import BatchSubmitter
from oracles.watch import watch
from tests.conftest import MODEL, World

HEADER = "batteryPassportIdentifier,stateOfHealth,remainingCapacity,internalResistanceIncrease,cycleCount,faultFlags,measuredAt\n"
IDS = [f"KR:KCELL:EV:{i:07d}" for i in range(1, 4)]


def csv_file(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def good_rows() -> list[str]:
    return [f"{IDS[0]},82.5,61.2,12.5,840,,2026-11-20T09:00:00",
            f"{IDS[1]},64.00,48.000,20,1200,BMS_COMMUNICATION_LOSS,2026-11-20T09:05:00+09:00",
            f"{IDS[2]},91,70,3.5,300,THERMAL_EVENT|COOLANT_LEAK,2026-11-20T09:10:00Z"]


@pytest.fixture
def fleet(world: World) -> World:
    p = world.ledger.passports
    for ident in IDS:
        bid = battery_id(ident)
        p.register(world.cell_maker, ident, MODEL)
        p.transfer(world.cell_maker, bid, world.ev_maker.address)
        p.put_in_service(world.ev_maker, bid, b"\x0e" * 32)
    return world


def oracle(w: World, tmp_path: Path, batch_size: int = 2, device=None) -> tuple[ReportSigner, BatchSubmitter]:  # type: ignore[no-untyped-def]
    device = device or w.device
    journal = Journal(tmp_path / "oracle.sqlite")
    signer = ReportSigner(device, w.ledger.evaluations, w.sender.chain_id, journal)
    return signer, BatchSubmitter(w.ledger.evaluations, w.portal, journal, device.address, batch_size,
                                  sleep=lambda s: None)


def test_reader_converts_units_and_flags(tmp_path: Path) -> None:
    ms = read_measurements(csv_file(tmp_path / "m.csv", good_rows()))
    assert [(m.state_of_health_bps, m.remaining_capacity_wh, m.resistance_increase_bps) for m in ms] == [
        (8_250, 61_200, 1_250), (6_400, 48_000, 2_000), (9_100, 70_000, 350)]
    assert ms[2].fault_flags == FaultFlag["THERMAL_EVENT"] | FaultFlag["COOLANT_LEAK"]
    assert ms[1].measured_at == ms[0].measured_at + 300 - 9 * 3600
    numeric = ("stateOfHealth", "remainingCapacity", "internalResistanceIncrease", "cycleCount")
    # numbers as JSON numbers, with their digits as written (64.00 stays 64.00)
    as_json = ["{" + ", ".join(f'"{k}": {v if k in numeric else json.dumps(v)}' for k, v in
                               zip(HEADER.strip().split(","), r.split(","), strict=True)) + "}" for r in good_rows()]
    (tmp_path / "m.json").write_text("[" + ",\n".join(as_json) + "]")
    (tmp_path / "m.jsonl").write_text("\n".join(as_json))
    assert read_measurements(tmp_path / "m.json") == [
        m.__class__(**{**m.__dict__, "source": m.source.replace("csv:2", "json:1").replace("csv:3", "json:2")
                       .replace("csv:4", "json:3")}) for m in ms]
    assert [m.raw for m in read_measurements(tmp_path / "m.jsonl")] == [m.raw for m in ms]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"{IDS[0]},100.5,61,1,1,,2026-11-20T09:00:00", "stateOfHealth '100.5' is impossible (must be <= 100)"),
        (f"{IDS[0]},80,-4,1,1,,2026-11-20T09:00:00", "remainingCapacity '-4' is impossible (must be >= 0)"),
        (f"{IDS[0]},80,4,1,-1,,2026-11-20T09:00:00", "cycleCount -1 is impossible"),
        (f"{IDS[0]},80,4,1,1,ON_FIRE,2026-11-20T09:00:00", "unknown fault flag 'ON_FIRE'"),
        (f"{IDS[0]},80,4,1,1,,2999-01-01T00:00:00", "measuredAt '2999-01-01T00:00:00' is in the future"),
        (f"{IDS[0]},80.123,4,1,1,,2026-11-20T09:00:00", "stateOfHealth '80.123' has too many decimals"),
        (f"{IDS[0]},eighty,4,1,1,,2026-11-20T09:00:00", "stateOfHealth 'eighty' is not a number"),
        ("bad id,80,4,1,1,,2026-11-20T09:00:00", "is not an ISO/IEC 15459-style identifier"),
        (f"{IDS[0]},80,4,1,1,2026-11-20T09:00:00", "wrong number of fields"),
    ],
)
def test_malformed_lines_are_reported_with_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    path = csv_file(tmp_path / "m.csv", [good_rows()[0], row])
    with pytest.raises(MeasurementFileError, match=r"m\.csv:3: ") as info:
        read_measurements(path)
    assert message in str(info.value)


def test_a_file_is_signed_submitted_in_batches_and_recorded_once(fleet: World, tmp_path: Path) -> None:
    w, ev = fleet, fleet.ledger.evaluations
    signer, submitter = oracle(w, tmp_path)
    path = csv_file(tmp_path / "m.csv", good_rows())
    report = process_file(path, signer, submitter)
    assert (report.signed, report.recorded, report.batches, report.already_recorded) == (3, 3, 2, 0)
    grades = [ev.evaluation(battery_id(i)).grade for i in IDS]
    assert grades == [Grade.UPPER, Grade.MIDDLE, Grade.LOWER]  # 82.5 %; 64 %; a thermal event forces recycling
    assert ev.evaluation(battery_id(IDS[0])).device == w.device.address
    again = process_file(path, signer, submitter)
    assert (again.signed, again.recorded, again.already_recorded) == (0, 0, 3)
    assert ev.nonce(w.device.address) == 3


def test_transient_failures_are_retried_and_a_crash_resubmits_the_same_signatures(
        fleet: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    w, ev = fleet, fleet.ledger.evaluations
    signer, submitter = oracle(w, tmp_path, batch_size=10)
    original = ev.submit_reports
    failures = {"left": 1}

    def flaky(relayer, signed, gas=None):  # type: ignore[no-untyped-def]
        if failures["left"] > 0:
            failures["left"] -= 1
            raise ConnectionError("node unreachable")
        return original(relayer, signed, gas)

    monkeypatch.setattr(ev, "submit_reports", flaky)
    path = csv_file(tmp_path / "m.csv", good_rows())
    report = process_file(path, signer, submitter)
    assert (report.retries, report.recorded) == (1, 3)

    # a node down for longer than the retries: the signed reports wait in the journal
    more = csv_file(tmp_path / "n.csv", [r.replace("2026-11-20", "2026-11-21") for r in good_rows()])
    failures["left"] = 99
    with pytest.raises(ConnectionError):
        process_file(more, signer, submitter)
    pending = signer.journal.pending(w.device.address)
    assert [p.report.nonce for p in pending] == [3, 4, 5]
    failures["left"] = 0
    fresh_signer, fresh_submitter = oracle(w, tmp_path, batch_size=10)  # a restarted oracle
    report = process_file(more, fresh_signer, fresh_submitter)
    assert (report.signed, report.recorded) == (0, 3)
    assert ev.nonce(w.device.address) == 6


def test_a_refused_batch_records_nothing_and_frees_the_nonces(fleet: World, tmp_path: Path) -> None:
    w, ev = fleet, fleet.ledger.evaluations
    signer, submitter = oracle(w, tmp_path, batch_size=10)
    rows = good_rows() + ["KR:NOT:IN:SERVICE,80,4,1,1,,2026-11-20T09:00:00"]
    with pytest.raises(LedgerError, match=r"m\.csv: the contract refused a batch \(battery 0x.*EvaluationBatteryNotInService"):
        process_file(csv_file(tmp_path / "m.csv", rows), signer, submitter)
    assert all(ev.evaluation(battery_id(i)).grade == Grade.NONE for i in IDS)
    assert signer.journal.pending(w.device.address) == []
    report = process_file(csv_file(tmp_path / "ok.csv", good_rows()), signer, submitter)
    assert report.recorded == 3 and ev.nonce(w.device.address) == 3


def test_an_unregistered_device_is_refused(fleet: World, tmp_path: Path) -> None:
    rogue = Account.create()
    signer, submitter = oracle(fleet, tmp_path, device=rogue)
    with pytest.raises(LedgerError, match=f"EvaluationUnknownDevice\\(device={rogue.address}\\)"):
        process_file(csv_file(tmp_path / "m.csv", good_rows()), signer, submitter)


def test_an_expired_pending_report_is_re_signed_with_its_nonce(fleet: World, tmp_path: Path) -> None:
    w = fleet
    signer, submitter = oracle(w, tmp_path)
    signer.ttl_seconds = 120
    signed, new = signer.sign(read_measurements(csv_file(tmp_path / "m.csv", good_rows()[:1]))[0])
    assert signed is not None and new
    w.backend.advance_time(600)
    renewed = signer.refresh(signed)
    assert renewed.report.nonce == signed.report.nonce and renewed.report.deadline > signed.report.deadline
    assert process_file(tmp_path / "m.csv", signer, submitter).recorded == 1


def test_watch_moves_done_and_failed_files(fleet: World, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    csv_file(inbox / "a.csv", good_rows())
    csv_file(inbox / "b.csv", [f"{IDS[0]},180,4,1,1,,2026-11-20T09:00:00"])
    (inbox / "notes.txt").write_text("ignored")
    signer, submitter = oracle(fleet, tmp_path)
    seen: dict[str, object] = {}
    watch(inbox, signer, submitter, interval=0, rounds=1, min_age=0, on_file=lambda p, r: seen.update({p.name: r}))
    assert (inbox / "done" / "a.csv").exists() and (inbox / "failed" / "b.csv").exists()
    assert "b.csv:2: stateOfHealth '180' is impossible" in (inbox / "failed" / "b.csv.error.txt").read_text()
    assert (inbox / "notes.txt").exists() and set(seen) == {"a.csv", "b.csv"}

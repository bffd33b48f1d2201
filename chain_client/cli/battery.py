"""``bledger battery``: the battery life-cycle record (passport)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from chain_client.battery_files import count_lines
from chain_client.battery_import import DEFAULT_BATCH_SIZE, import_file, proof_for
from chain_client.battery_index import BatteryIndex, damage_reported
from chain_client.battery_reconcile import rebuild_index, reconcile, require_usable_index
from chain_client.cli.common import (
    DeploymentOpt,
    KeyOpt,
    RelayerOpt,
    RpcOpt,
    address,
    console,
    doc_hash,
    readable_file,
    open_ledger,
    reports_errors,
    signer,
)
from chain_client.errors import LedgerError
from chain_client.merkle import keccak
from chain_client.battery_pass import export_battery_pass
from chain_client.model_data import read_model_data
from chain_client.passport_page import write_label
from chain_client.passport_documents import PassportDocuments, SecondLifeRecord, parse_record, vin_hash
from chain_client.passport_export import export_passport
from chain_client.passport_ids import check_identifier, to_urn
from chain_client.passports import battery_id
from chain_client.suite import Ledger
from chain_client.vocabulary import BatteryStatus, identifier

app = typer.Typer(no_args_is_help=True)
index_app = typer.Typer(no_args_is_help=True)
app.add_typer(index_app, name="index", help="The manufacturer's battery index (rebuild it from files and chain).")

DataOpt = Annotated[Path, typer.Option("--data", envvar="BLEDGER_DATA",
                                       help="Folder of the battery index and the off-chain batch files.")]
EvidenceOpt = Annotated[Path | None, typer.Option("--evidence", help="Evidence document; its hash goes on-chain.")]


@contextmanager
def _index(data: Path, verify: bool = False) -> Iterator[BatteryIndex]:
    """The index in ``data``, closed afterwards; a damaged file is one clear error naming the rebuild command."""
    path = data / "index.sqlite"
    index = BatteryIndex(path, verify)
    try:
        with damage_reported(path):
            yield index
    finally:
        index.close()


def ensure_on_chain(ledger: Ledger, data: Path, caller_key: str | None, ident: str) -> bytes:
    """The battery's id; a battery known only through an anchored batch first gets its own record, by proof."""
    bid = battery_id(ident)
    if ledger.passports.battery(bid).status != BatteryStatus.NONE:
        return bid
    with _index(data) as index:
        batch, proof = proof_for(index, ident)
    ledger.passports.materialize(signer(caller_key), batch.batch_id, ident, proof)
    return bid


@app.command()
@reports_errors
def model(
    data_sheet: Annotated[Path, typer.Argument(help="The model's public data sheet (JSON, DIN DKE SPEC 99100 names).")],
    rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
    relayer: RelayerOpt = None, data: DataOpt = Path("bledger-data"),
) -> None:
    """Register a battery model once (manufacturer): its category and the hash of its data sheet go on-chain."""
    sheet = read_model_data(data_sheet)
    ledger, _ = open_ledger(rpc, deployment, relayer)
    model_id = ledger.passports.register_model(signer(key), sheet.batteryModel, sheet.spec())
    PassportDocuments(data).publish_model(sheet)
    console.print(f"model {sheet.batteryModel} registered ({sheet.batteryCategory}, "
                  f"{sheet.materialComposition['batteryChemistry']['shortName']}, id 0x{model_id.hex()[:12]}…)")


@app.command()
@reports_errors
def prefix(
    prefix_: Annotated[str, typer.Argument(metavar="PREFIX", help="Issuer prefix IAC:CIN, e.g. KR:KCELL.")],
    holder: Annotated[str, typer.Option(help="Address of the cell maker or reuse business that gets it.")],
    rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
    relayer: RelayerOpt = None,
) -> None:
    """Assign an issuer prefix to a maker, for good (the authority of its role, e.g. MOTIE). Only its holder can then
    register models and batteries whose identifiers start with PREFIX:."""
    ledger, _ = open_ledger(rpc, deployment, relayer)
    ledger.passports.assign_prefix(signer(key), prefix_, holder)
    console.print(f"issuer prefix {prefix_} assigned to {holder}")


@app.command()
@reports_errors
def register(
    ident: Annotated[str, typer.Argument(metavar="ID", help="Battery identifier.")], model_name: str, rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
    data: DataOpt = Path("bledger-data"),
    record: Annotated[Path | None, typer.Option("--record", help="The battery's record; its hash goes on-chain.")]
    = None,
    manufacturing_date: Annotated[str | None, typer.Option(help="Passport record: ISO date (-time).")] = None,
    plant: Annotated[str | None, typer.Option(help="Passport record: the plant (of the model's data sheet).")] = None,
    warranty_until: Annotated[str | None, typer.Option(help="Passport record: end of the warranty (ISO date).")] = None,
) -> None:
    """Register one battery (manufacturer). With --manufacturing-date, --plant and --warranty-until its passport
    record is kept off-chain and its hash goes on-chain (otherwise the hash of --record, if any)."""
    ident = check_identifier(ident)
    bid = battery_id(ident)
    given = [v for v in (manufacturing_date, plant, warranty_until) if v is not None]
    passport_record = None
    if given:
        if len(given) != 3:
            raise ValueError("a passport record needs all of --manufacturing-date, --plant and --warranty-until")
        passport_record = parse_record({"manufacturingDate": manufacturing_date, "manufacturingPlace": plant,
                                        "warrantyUntil": warranty_until}, ident)
    record_hash = passport_record.record_hash() if passport_record else doc_hash(record)
    ledger, _ = open_ledger(rpc, deployment, relayer)
    with _index(data) as index:
        existing = index.find_existing([bid])
        if existing:
            raise LedgerError(f"{ident} is already registered ({existing[bid]})")
        with index.transaction():
            index.add_batteries([(bid, ident, None, "single")])
            if passport_record:
                index.add_records([(bid, passport_record.canonical().decode())])
            receipt = ledger.passports.register(signer(key), ident, identifier(model_name), record_hash)
    console.print(f"battery {ident} registered (gas {receipt['gasUsed']:,})")


@app.command("import")
@reports_errors
def import_(
    file: Annotated[Path, typer.Argument(help="CSV (with header) or JSON Lines file.")], rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
    data: DataOpt = Path("bledger-data"),
    batch_size: Annotated[int, typer.Option(help="Batteries per anchored batch.")] = DEFAULT_BATCH_SIZE,
) -> None:
    """Register batteries in bulk: Merkle-anchored batches, resumable, all-or-nothing per batch."""
    if batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    total = count_lines(readable_file(file, "import file"))
    ledger, _ = open_ledger(rpc, deployment, relayer)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with _index(data) as index:
        with Progress(*columns, console=console, transient=not console.is_terminal) as progress:
            task = progress.add_task(f"importing {file.name}", total=total)
            report = import_file(file, ledger.passports, signer(key), index, data / "batches", batch_size,
                                 lambda line: progress.update(task, completed=line))
            progress.update(task, completed=total)
    if report.reconciled is not None and report.reconciled.changed:
        for line in report.reconciled.lines()[1:]:
            console.print(f"reconciled: {line}")
    if report.batches == 0 and report.skipped_lines:
        console.print(f"nothing new: the first {report.skipped_lines:,} lines of {file.name} were imported before")
        return
    resumed = f" (resumed after line {report.skipped_lines:,})" if report.skipped_lines else ""
    console.print(f"{report.batteries:,} batteries in {report.batches} batches anchored{resumed}")


@app.command()
@reports_errors
def show(
    ident: Annotated[str, typer.Argument(metavar="ID")], rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), data: DataOpt = Path("bledger-data"),
) -> None:
    """Show a battery's passport (DIN DKE SPEC 99100 names, by sharing tier) as JSON."""
    ledger, _ = open_ledger(rpc, deployment)
    bid = battery_id(ident)
    if ledger.passports.battery(bid).status == BatteryStatus.NONE:
        with _index(data) as index:
            batch, proof = proof_for(index, ident)
        ok = ledger.passports.is_in_batch(batch.batch_id, bid, proof)
        console.print_json(json.dumps({"batteryPassportIdentifier": ident, "batteryStatus": "Original",
                                       "registeredInBatch": batch.batch_id, "proofVerifiedOnChain": ok}))
        return
    passport = export_passport(ledger.passports, ident, bid)
    sheet = data / "models" / f"{ledger.passports.battery(bid).model_id.hex()}.json"
    if sheet.is_file():  # the published model data, checked against the hash on-chain
        passport["public"]["modelData"] = json.loads(sheet.read_text())
        passport["public"]["modelDataVerified"] = keccak(sheet.read_bytes()) == ledger.passports.model(
            ledger.passports.battery(bid).model_id).data_hash
    console.print_json(json.dumps(passport))


@app.command()
@reports_errors
def history(ident: Annotated[str, typer.Argument(metavar="ID")], rpc: RpcOpt,
            deployment: DeploymentOpt = Path("deployment.json")) -> None:
    """A battery's complete, ordered history."""
    ledger, _ = open_ledger(rpc, deployment)
    entries = ledger.passports.history(battery_id(ident))
    if not entries:
        raise LedgerError(f"no recorded history for {ident}")
    for h in entries:
        console.print(f"#{h.sequence:<3} block {h.block_number:<6} {h.status.label:<15} by {h.actor} -> operator "
                      f"{h.operator}")


@app.command()
@reports_errors
def transfer(
    ident: Annotated[str, typer.Argument(metavar="ID")], to: str, rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
    data: DataOpt = Path("bledger-data"), evidence: EvidenceOpt = None,
) -> None:
    """Hand custody of a battery to another registered operator (current operator)."""
    to = address(to, "recipient")
    ledger, _ = open_ledger(rpc, deployment, relayer)
    bid = ensure_on_chain(ledger, data, key, ident)
    ledger.passports.transfer(signer(key), bid, to, doc_hash(evidence))
    console.print(f"{ident}: custody passed to {to}")


@app.command()
@reports_errors
def status(
    ident: Annotated[str, typer.Argument(metavar="ID")],
    step: Annotated[str, typer.Argument(help="in-service, removed, reused, repurposed, remanufactured, waste, recycled")],
    rpc: RpcOpt,
    vin: Annotated[str | None, typer.Option(help="Vehicle identification number (in-service).")] = None,
    successor: Annotated[str | None, typer.Option(help="New passport id (reused/repurposed/remanufactured).")] = None,
    successor_model: Annotated[str | None, typer.Option(
        help="Model of the new passport, one of yours (default: the original's model).")] = None,
    plant: Annotated[str | None, typer.Option(
        help="Second life: where the new battery was made (a plant of its model's data sheet).")] = None,
    warranty_until: Annotated[str | None, typer.Option(help="Second life: warranty end of the new battery.")] = None,
    lot: Annotated[int | None, typer.Option(help="Certificate lot that consumed it (recycled).")] = None,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
    data: DataOpt = Path("bledger-data"), evidence: EvidenceOpt = None,
) -> None:
    """Move a battery along its life cycle (the operator with the role the step needs)."""
    ledger, _ = open_ledger(rpc, deployment, relayer)
    p, who, ev = ledger.passports, signer(key), doc_hash(evidence)
    bid = ensure_on_chain(ledger, data, key, ident)
    docs = PassportDocuments(data)
    if step == "in-service":
        if not vin:
            raise ValueError("in-service needs --vin")
        # salted: the salt stays in DATA/authority/vin-salts.json (authority tier), never on-chain
        p.put_in_service(who, bid, vin_hash(vin, docs.new_vin_salt(bid)), ev)
    elif step == "removed":
        p.mark_removed(who, bid, ev)
    elif step in ("reused", "repurposed", "remanufactured"):
        if not successor:
            raise ValueError(f"{step} needs --successor (the new passport's identifier)")
        model_id = identifier(successor_model) if successor_model else p.battery(bid).model_id
        second = _second_life_record(ledger, docs, ident, successor, model_id, plant, warranty_until, ev)
        p.start_second_life(who, bid, successor, BatteryStatus[step.upper()],
                            second.evidence_hash() if second else ev,
                            identifier(successor_model) if successor_model else b"\x00" * 32)
        if second:
            docs.publish_second_life(battery_id(second.successor), second)
    elif step == "waste":
        p.mark_waste(who, bid, ev)
    elif step == "recycled":
        if lot is None:
            raise ValueError("recycled needs --lot")
        p.mark_recycled(who, bid, lot, ev)
    else:
        raise ValueError(f"unknown step {step!r}")
    console.print(f"{ident}: {step}")


def _second_life_record(ledger: Ledger, docs: PassportDocuments, ident: str, successor: str, model_id: bytes,
                        plant: str | None, warranty_until: str | None, evidence: bytes) -> SecondLifeRecord | None:
    """The new passport's record (made at --plant now, warranty until --warranty-until), or None if not given."""
    if plant is None and warranty_until is None:
        return None
    if plant is None or warranty_until is None:
        raise ValueError("a second-life record needs both --plant and --warranty-until")
    sheet = docs.model_sheet(model_id)
    if sheet is not None and plant not in sheet.manufacturingPlaces:
        raise ValueError(f"--plant {plant!r} is not a plant of {sheet.batteryModel} "
                         f"({', '.join(sheet.manufacturingPlaces)})")
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    record = parse_record({"manufacturingDate": datetime.fromtimestamp(now, UTC).isoformat(),
                           "manufacturingPlace": plant, "warrantyUntil": warranty_until}, "second-life record")
    return SecondLifeRecord(predecessor=ident, successor=successor, record=record, evidenceHash="0x" + evidence.hex())


@app.command()
@reports_errors
def prove(
    ident: Annotated[str, typer.Argument(metavar="ID")], rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), data: DataOpt = Path("bledger-data"),
) -> None:
    """Print a battery's batch, leaf proof, and whether the chain accepts it."""
    ledger, _ = open_ledger(rpc, deployment)
    with _index(data) as index:
        batch, proof = proof_for(index, ident)
    ok = ledger.passports.is_in_batch(batch.batch_id, battery_id(ident), proof)
    console.print_json(json.dumps({"batteryPassportIdentifier": ident, "batchId": batch.batch_id,
                                   "root": "0x" + batch.root.hex(), "proof": ["0x" + p.hex() for p in proof],
                                   "verifiedOnChain": ok}))


TierOpt = Annotated[str, typer.Option(
    "--tier", help="public (Annex XIII point 1), legitimateInterest (+ points 2 and 4) or authority (everything).")]


@app.command()
@reports_errors
def export(
    ident: Annotated[str, typer.Argument(metavar="ID")], rpc: RpcOpt,
    out: Annotated[Path, typer.Option("--out", help="Folder for the files (created).")],
    deployment: DeploymentOpt = Path("deployment.json"), data: DataOpt = Path("bledger-data"),
    tier: TierOpt = "authority",
) -> None:
    """Export a battery's passport in the Battery Pass 1.2.0 shape: one file per attribute group, named after its
    schema, plus BatteryLedger.json (the ledger's own facts); each group is validated before anything is written."""
    ledger, _ = open_ledger(rpc, deployment)
    with PassportDocuments(data) as docs:
        passport = export_battery_pass(ledger, docs, ident)
    errors = passport.schema_errors(tier)
    if errors:
        raise LedgerError(f"{ident}: the export does not validate: " + "; ".join(errors[:5]))
    out.mkdir(parents=True, exist_ok=True)
    for name, content in passport.files(tier).items():
        (out / name).write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n")
    console.print(f"{ident} ({to_urn(ident)}): {len(passport.files(tier))} files written to {out} ({tier} tier; "
                  "every group validates against its Battery Pass 1.2.0 schema)")


@app.command()
@reports_errors
def label(
    ident: Annotated[str, typer.Argument(metavar="ID")],
    base: Annotated[str, typer.Option("--base", envvar="BLEDGER_PASSPORT_BASE",
                                      help="Base URL of the portal that serves /p/{identifier}.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for label.png and label.svg.")] = Path("."),
) -> None:
    """Write a battery's QR code label (PNG and SVG) for its public passport page {base}/p/{URN}."""
    png, svg, url = write_label(ident, base, out)
    console.print(f"{url}\n{png}\n{svg}")


@app.command("reconcile")
@reports_errors
def reconcile_(
    rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
    relayer: RelayerOpt = None, data: DataOpt = Path("bledger-data"),
) -> None:
    """Check the index against the chain and fix it (manufacturer): batches the node lost are re-anchored from
    their batch files under fresh ids, wrong ids corrected, batches mined but not indexed added."""
    ledger, _ = open_ledger(rpc, deployment, relayer)
    maker = signer(key)
    with _index(data, verify=True) as index:
        require_usable_index(index, ledger.passports, maker.address)
        report = reconcile(index, ledger.passports, maker, data / "batches")
    for line in report.lines():
        console.print(line)
    if not report.changed and not report.lost and not report.unknown:
        console.print("the index agrees with the chain: nothing to fix")


@index_app.command("rebuild")
@reports_errors
def rebuild(
    rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
    manufacturer: Annotated[str | None, typer.Option(help="Manufacturer address (default: the --key's).")] = None,
    data: DataOpt = Path("bledger-data"),
) -> None:
    """Rebuild the index from the batch files in DATA/batches and the chain's events (a damaged or lost index);
    the previous file is kept beside it. Lists the batches whose files are missing."""
    chosen = address(manufacturer, "--manufacturer") if manufacturer else None
    ledger, _ = open_ledger(rpc, deployment)
    maker = chosen or signer(key).address
    report = rebuild_index(data / "index.sqlite", ledger.passports, maker, data / "batches", data / "models")
    for line in report.lines():
        console.print(line)

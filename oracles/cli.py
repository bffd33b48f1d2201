"""``bledger oracle``: sign and submit measurement files (``submit``), or watch a folder (``watch``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from chain_client.cli.common import DeploymentOpt, RpcOpt, console, open_ledger, readable_file, reports_errors, signer
from chain_client.errors import LedgerError
from oracles.journal import Journal
from oracles.pipeline import process_file
from oracles.reconcile import reconcile_journal
from oracles.signer import ReportSigner
from oracles.submitter import BatchSubmitter, SubmitReport
from oracles.watch import watch as watch_folder

app = typer.Typer(no_args_is_help=True)

DeviceOpt = Annotated[str, typer.Option("--device-key", envvar="BLEDGER_DEVICE_KEY",
                                        help="The device's signing key: env:NAME, keystore:PATH, or dev:N on a "
                                             "dev chain.")]
RelayOpt = Annotated[str | None, typer.Option("--relayer", envvar="BLEDGER_RELAYER",
                                              help="Key that sends the batches and pays the gas (no default).")]
StateOpt = Annotated[Path, typer.Option("--state", envvar="BLEDGER_ORACLE_STATE",
                                        help="The oracle's journal (what was signed and submitted).")]
BatchOpt = Annotated[int, typer.Option(help="Reports per transaction.")]


def _pipeline(rpc: str | Sequence[str], deployment: Path, device_key: str, relayer: str | None, state: Path,
              batch_size: int, reconcile_first: bool = True) -> tuple[ReportSigner, BatchSubmitter]:
    ledger, sender = open_ledger(rpc, deployment)
    device, relay = signer(device_key), signer(relayer)
    evaluator, revoked = ledger.evaluations.device_of(device.address)
    if evaluator == "0x" + "00" * 20 or revoked:
        raise LedgerError(f"device {device.address} is not a registered device: ask the evaluator to run "
                          "`bledger eval device ADDRESS`")
    journal = Journal(state)
    report_signer = ReportSigner(device, ledger.evaluations, sender.chain_id, journal)
    if reconcile_first:  # on every start: the node may have lost reports, or recorded some the journal missed
        reconciled = reconcile_journal(report_signer)
        for line in reconciled.lines()[1:] if reconciled.changed else []:
            console.print(f"reconciled: {line}")
    return report_signer, BatchSubmitter(ledger.evaluations, relay, journal, device.address, batch_size)


def _summary(name: str, r: SubmitReport) -> str:
    return (f"{name}: {r.recorded} reports recorded in {r.batches} transactions, {r.already_recorded} already "
            f"recorded before" + (f", {r.retries} retries" if r.retries else ""))


@app.command()
@reports_errors
def submit(
    file: Annotated[Path, typer.Argument(help="Measurement file: .csv, .json or .jsonl.")], rpc: RpcOpt,
    device_key: DeviceOpt, relayer: RelayOpt = None, deployment: DeploymentOpt = Path("deployment.json"),
    state: StateOpt = Path("bledger-data/oracle.sqlite"), batch_size: BatchOpt = 100,
) -> None:
    """Validate a measurement file, sign each new reading with the device key, submit in batches."""
    report_signer, submitter = _pipeline(rpc, deployment, device_key, relayer, state, batch_size)
    readable_file(file, "measurement file")  # before anything is signed (the keys and the device were checked first)
    console.print(_summary(file.name, process_file(file, report_signer, submitter)))


@app.command()
@reports_errors
def reconcile(
    rpc: RpcOpt, device_key: DeviceOpt, relayer: RelayOpt = None, deployment: DeploymentOpt = Path("deployment.json"),
    state: StateOpt = Path("bledger-data/oracle.sqlite"), batch_size: BatchOpt = 100,
) -> None:
    """Check the journal against the chain, fix it, and submit the reports still waiting (a node that lost blocks,
    a crash between signing and sending)."""
    if not state.is_file():
        raise LedgerError(f"no oracle journal at {state}")
    report_signer, submitter = _pipeline(rpc, deployment, device_key, relayer, state, batch_size, reconcile_first=False)
    found = reconcile_journal(report_signer)
    for line in found.lines():
        console.print(line)
    waiting = [report_signer.refresh(s) for s in report_signer.journal.pending(report_signer.device.address)]
    if waiting:
        result = SubmitReport()
        submitter.submit(waiting, result)
        console.print(_summary("waiting reports", result))


@app.command()
@reports_errors
def watch(
    directory: Annotated[Path, typer.Argument(help="Folder the equipment exports into.")], rpc: RpcOpt,
    device_key: DeviceOpt, relayer: RelayOpt = None, deployment: DeploymentOpt = Path("deployment.json"),
    state: StateOpt = Path("bledger-data/oracle.sqlite"), batch_size: BatchOpt = 100,
    interval: Annotated[float, typer.Option(help="Seconds between scans.")] = 2.0,
    rounds: Annotated[int | None, typer.Option(help="Stop after this many scans (default: run until Ctrl-C).")]
    = None,
    min_age: Annotated[float, typer.Option(help="Seconds a file must be unchanged before it is read.")] = 1.0,
) -> None:
    """Process measurement files as they arrive: done ones move to DIR/done, refused ones to DIR/failed."""
    if not directory.is_dir():
        raise LedgerError(f"{directory} is not a folder")
    report_signer, submitter = _pipeline(rpc, deployment, device_key, relayer, state, batch_size)

    def show(path: Path, result: SubmitReport | Exception) -> None:
        if isinstance(result, Exception):
            console.print(f"[red]{path.name} failed:[/red] {result}")
        else:
            console.print(_summary(path.name, result))

    console.print(f"watching {directory} (Ctrl-C to stop)")
    try:
        watch_folder(directory, report_signer, submitter, interval, rounds, min_age, on_file=show)
    except KeyboardInterrupt:
        console.print("stopped")

"""``bledger eval``, ``bledger inspect``, ``bledger transport``, ``bledger storage``: the safety rules' commands."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from chain_client.cli.common import (
    DeploymentOpt,
    KeyOpt,
    RelayerOpt,
    RpcOpt,
    console,
    doc_hash,
    open_ledger,
    parse_address,
    parse_decimal,
    percent_bps,
    parse_time,
    reports_errors,
    signer,
)
from chain_client.logistics import InspectionKind
from chain_client.passports import battery_id
from chain_client.vocabulary import identifier

evaluations = typer.Typer(no_args_is_help=True)
inspections = typer.Typer(no_args_is_help=True)
transport = typer.Typer(no_args_is_help=True)
storage = typer.Typer(no_args_is_help=True)


@evaluations.command("device")
@reports_errors
def device(
    address: str, rpc: RpcOpt, revoke: Annotated[bool, typer.Option(help="Revoke instead of register.")] = False,
    device_key: Annotated[str | None, typer.Option(
        help="The device's key, to sign its proof of possession here (env:NAME, keystore:PATH or dev:N).")] = None,
    proof: Annotated[str | None, typer.Option(
        help="The device's proof made on the device: its EIP-712 signature of DeviceRegistration(evaluator).")] = None,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
) -> None:
    """Register (or revoke) a measuring device's signing address (accredited evaluator; MOLIT may revoke).
    Registration needs the device's proof that it holds its key (--device-key or --proof)."""
    address = parse_address(address, "device address")
    ledger, _ = open_ledger(rpc, deployment, relayer)
    if revoke:
        ledger.evaluations.revoke_device(signer(key), address)
    elif device_key:
        device_account = signer(device_key)
        if device_account.address.lower() != address.lower():
            raise ValueError(f"--device-key is the key of {device_account.address}, not of {address}")
        ledger.evaluations.register_device(signer(key), device_account)
    elif proof:
        ledger.evaluations.register_device(signer(key), address, bytes.fromhex(proof.removeprefix("0x")))
    else:
        raise ValueError("registering a device needs its proof of possession: --device-key KEY or --proof SIGNATURE")
    console.print(f"device {address} {'revoked' if revoke else 'registered'}")


@evaluations.command("show")
@reports_errors
def show_evaluation(ident: Annotated[str, typer.Argument(metavar="ID")], rpc: RpcOpt,
                    deployment: DeploymentOpt = Path("deployment.json")) -> None:
    """A battery's latest evaluation."""
    ledger, _ = open_ledger(rpc, deployment)
    e = ledger.evaluations.evaluation(battery_id(ident))
    if e.grade.value == 0:
        raise ValueError(f"{ident} has no evaluation")
    console.print(f"{ident}: grade {e.grade.name.lower()} (SOH {e.state_of_health_bps / 100:.2f} %, policy "
                  f"v{e.policy_version}), evaluator {e.evaluator}, device {e.device}")


@inspections.command("record")
@reports_errors
def record(
    ident: Annotated[str, typer.Argument(metavar="ID")],
    kind: Annotated[str, typer.Argument(help="pre or post (distribution)")],
    valid_until: Annotated[str, typer.Option(help="ISO date or unix seconds.")], rpc: RpcOpt,
    failed: Annotated[bool, typer.Option("--failed", help="Record a failed inspection.")] = False,
    findings: Annotated[Path | None, typer.Option(help="Findings report; its hash goes on-chain.")] = None,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
) -> None:
    """Record a safety inspection (accredited inspection body)."""
    kinds = {"pre": InspectionKind.PRE_DISTRIBUTION, "post": InspectionKind.POST_DISTRIBUTION}
    if kind not in kinds:
        raise ValueError("kind must be pre or post")
    ledger, _ = open_ledger(rpc, deployment, relayer)
    ledger.inspections.record(signer(key), battery_id(ident), kinds[kind], not failed, parse_time(valid_until),
                              doc_hash(findings))
    console.print(f"{ident}: {kind}-distribution inspection {'failed' if failed else 'passed'} recorded")


@transport.command("ship")
@reports_errors
def ship(
    ident: Annotated[str, typer.Argument(metavar="ID")], from_: Annotated[str, typer.Argument(metavar="FROM")],
    to: str, soc: Annotated[str, typer.Option(help="State of charge at dispatch, percent (two decimals at most).")],
    rpc: RpcOpt,
    packaging: Annotated[int, typer.Option(help="Packaging class (e.g. UN packing instruction number).")] = 0,
    evidence: Annotated[Path | None, typer.Option(help="Consignment note.")] = None,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
) -> None:
    """Record a shipment leg (registered transporter); refused above the state-of-charge limit."""
    from_, to = parse_address(from_, "FROM"), parse_address(to, "TO")
    soc_bps, evidence_hash = percent_bps(soc, "--soc"), doc_hash(evidence)
    ledger, _ = open_ledger(rpc, deployment, relayer)
    ledger.logistics.ship(signer(key), battery_id(ident), from_, to, soc_bps, packaging, evidence_hash)
    console.print(f"{ident}: shipment leg recorded at {soc_bps / 100:g} % state of charge")


@storage.command("site")
@reports_errors
def site(
    site_id: str, capacity_kwh: Annotated[str, typer.Argument(help="Permitted capacity, kWh (3 decimals at most).")],
    rpc: RpcOpt,
    permit: Annotated[Path | None, typer.Option(help="Storage permit; its hash goes on-chain.")] = None,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
) -> None:
    """Register a storage site with its permitted capacity (storage operator)."""
    capacity_wh, permit_hash = parse_decimal(capacity_kwh, "capacity (kWh)", 3, low=Decimal(0)), doc_hash(permit)
    ledger, _ = open_ledger(rpc, deployment, relayer)
    ledger.logistics.register_site(signer(key), identifier(site_id), capacity_wh, permit_hash)
    console.print(f"site {site_id} registered: {capacity_wh / 1000:g} kWh")


@storage.command("intake")
@reports_errors
def intake(
    site_id: str, ident: Annotated[str, typer.Argument(metavar="ID")],
    energy_kwh: Annotated[str, typer.Argument(help="The battery's energy, kWh (3 decimals at most).")], rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
) -> None:
    """Take a battery into a site; refused beyond the permitted capacity."""
    energy_wh = parse_decimal(energy_kwh, "energy (kWh)", 3, low=Decimal(0))
    ledger, _ = open_ledger(rpc, deployment, relayer)
    ledger.logistics.intake(signer(key), identifier(site_id), battery_id(ident), energy_wh)
    s = ledger.logistics.site(identifier(site_id))
    console.print(f"{ident} stored at {site_id}: {s.stored_wh / 1000:g} of {s.capacity_wh / 1000:g} kWh used")


@storage.command("release")
@reports_errors
def release(
    site_id: str, ident: Annotated[str, typer.Argument(metavar="ID")], rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
) -> None:
    """Release a stored battery, freeing its capacity."""
    ledger, _ = open_ledger(rpc, deployment, relayer)
    ledger.logistics.release(signer(key), identifier(site_id), battery_id(ident))
    console.print(f"{ident} released from {site_id}")

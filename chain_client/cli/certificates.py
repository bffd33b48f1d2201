"""``bledger cert``: production certificates (recyclers apply, MoE decides, holders transfer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chain_client.certificates import LotApplication
from chain_client.cli.common import (
    DeploymentOpt,
    KeyOpt,
    RelayerOpt,
    RpcOpt,
    address,
    console,
    doc_hash,
    open_ledger,
    parse_bytes32,
    parse_time,
    reports_errors,
    signer,
)
from chain_client.vocabulary import Feedstock, Material, identifier, short_string

app = typer.Typer(no_args_is_help=True)


def parse_material(value: str) -> Material:
    for m in Material:
        if value.lower() in (m.name.lower(), m.symbol.lower()):
            return m
    raise ValueError(f"unknown material {value!r}: use {', '.join(m.symbol for m in Material)}")


@app.command("apply")
@reports_errors
def apply_(
    material: Annotated[str, typer.Option(help="Li, Ni, Co, Mn, Cu or Pb.")],
    grams: Annotated[int, typer.Option(help="Contained metal mass, integer grams.")],
    form: Annotated[str, typer.Option(help="Chemical form, e.g. Li2CO3.")],
    facility: Annotated[str, typer.Option(help="Facility identifier.")],
    period_start: Annotated[str, typer.Option(help="Production period start (ISO date or unix).")],
    period_end: Annotated[str, typer.Option(help="Production period end.")],
    rpc: RpcOpt,
    feedstock: Annotated[str, typer.Option(help="pre (manufacturing waste) or post (waste batteries).")] = "post",
    source_root: Annotated[str | None, typer.Option(help="Merkle root of source batteries/lots (0x..).")] = None,
    evidence: Annotated[Path | None, typer.Option(help="Evidence dossier; its hash goes on-chain.")] = None,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
) -> None:
    """Apply for certification of a production lot (recycler)."""
    if feedstock not in ("pre", "post"):
        raise ValueError("feedstock must be pre or post")
    evidence_hash = doc_hash(evidence)
    ledger, _ = open_ledger(rpc, deployment, relayer)
    application = LotApplication(
        parse_material(material), Feedstock.PRE_CONSUMER if feedstock == "pre" else Feedstock.POST_CONSUMER, grams,
        short_string(form), identifier(facility), parse_time(period_start), parse_time(period_end),
        parse_bytes32(source_root) if source_root else b"\x00" * 32, evidence_hash)
    lot_id = ledger.certificates.apply(signer(key), application)
    console.print(f"lot #{lot_id} applied for")


@app.command()
@reports_errors
def decide(
    decision: Annotated[str, typer.Argument(help="certify, reject or revoke")], lot_id: int, rpc: RpcOpt,
    reason: Annotated[Path | None, typer.Option(help="Decision document (reject, revoke).")] = None,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
) -> None:
    """Certify, reject or revoke a lot (Ministry of Environment)."""
    ledger, _ = open_ledger(rpc, deployment, relayer)
    c, moe = ledger.certificates, signer(key)
    if decision == "certify":
        c.certify(moe, lot_id)
    elif decision in ("reject", "revoke"):
        (c.reject if decision == "reject" else c.revoke)(moe, lot_id, doc_hash(reason))
    else:
        raise ValueError(f"unknown decision {decision!r}: use certify, reject or revoke")
    console.print(f"lot #{lot_id}: {decision} done")


@app.command()
@reports_errors
def transfer(
    lot_id: int, to: str, grams: int,
    shipment: Annotated[str, typer.Option(help="Shipment reference (transaction record id).")],
    rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
    relayer: RelayerOpt = None,
) -> None:
    """Transfer part of a certified lot to another registered holder with a shipment."""
    to = address(to, "recipient")
    ledger, _ = open_ledger(rpc, deployment, relayer)
    receipt = ledger.certificates.transfer(signer(key), lot_id, to, grams, identifier(shipment))
    console.print(f"{grams} g of lot #{lot_id} sent to {to} (gas {receipt['gasUsed']})")


@app.command()
@reports_errors
def show(lot_id: int, rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"),
         holder: Annotated[str | None, typer.Option(help="Also show this holder's balance.")] = None) -> None:
    """Show a lot."""
    holder = address(holder, "holder") if holder else None
    ledger, _ = open_ledger(rpc, deployment)
    lot = ledger.certificates.lot(lot_id)
    if lot.status.value == 0:
        raise ValueError(f"lot #{lot_id} does not exist")
    console.print(f"lot #{lot_id}: {lot.material.symbol} {lot.mass_grams:,} g ({lot.feedstock.name.lower()}), "
                  f"{lot.status.name.lower()}, recycler {lot.recycler}")
    if holder:
        console.print(f"balance of {holder}: {ledger.certificates.balance(lot_id, holder):,} g")

"""``bledger trade``: used-battery trades (sellers, buyers, the dispute authority, ministries checking prices)."""

from __future__ import annotations

import json
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
    parse_bytes32,
    parse_time,
    reports_errors,
    signer,
)
from chain_client.passports import battery_id
from chain_client.price_store import PriceRecord, PriceStore, check_price
from chain_client.statistics import compute
from chain_client.trades import Sale, new_salt, price_commitment
from chain_client.vocabulary import document_hash

app = typer.Typer(no_args_is_help=True)
DataOpt = Annotated[Path, typer.Option("--data", envvar="BLEDGER_DATA",
                                       help="Folder of the price store (the authority tier's copy).")]


def _terms_hash(terms: str) -> bytes:
    return parse_bytes32(terms) if terms.startswith("0x") else document_hash(Path(terms))


@app.command("terms")
@reports_errors
def terms(
    document: Annotated[str, typer.Argument(help="The standard terms (file) or their 0x hash.")], rpc: RpcOpt,
    withdraw: Annotated[bool, typer.Option(help="Withdraw this version instead of publishing it.")] = False,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
) -> None:
    """Publish (or withdraw) a version of the standard contract terms (the trade authority, MOTIE by default)."""
    ledger, _ = open_ledger(rpc, deployment)
    digest = _terms_hash(document)
    ledger.trades.set_standard_terms(signer(key), digest, not withdraw)
    console.print(f"standard terms 0x{digest.hex()} {'withdrawn' if withdraw else 'published'}")


@app.command("sell")
@reports_errors
def sell(
    buyer: str,
    batteries: Annotated[list[str], typer.Argument(help="Battery identifiers (1 to 100).")],
    rpc: RpcOpt,
    terms_: Annotated[str, typer.Option("--terms", help="The standard terms used (file or 0x hash).")],
    due: Annotated[str, typer.Option(help="Payment due date (ISO date or unix seconds).")],
    price: Annotated[int, typer.Option(help="Agreed price in the currency's smallest unit (won for KRW).")],
    currency: Annotated[str, typer.Option(help="ISO 4217 code.")] = "KRW",
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
    data: DataOpt = Path("bledger-data"),
) -> None:
    """Record a sale (seller). Only the commitment to the price goes on-chain; price and salt go to the price store."""
    ledger, sender = open_ledger(rpc, deployment, relayer)
    salt = new_salt()
    commitment = price_commitment(price, currency, salt)
    trade_id = ledger.trades.record_sale(signer(key), Sale(
        buyer, [battery_id(b) for b in batteries], _terms_hash(terms_), parse_time(due), commitment))
    PriceStore.in_data_dir(data).put(sender.chain_id, ledger.trades.address,
                                     PriceRecord(trade_id, price, currency, salt))
    graded = ", ".join(f"{g.name.lower()}" for _, g in ledger.trades.batteries(trade_id))
    console.print(f"trade #{trade_id} recorded: {len(batteries)} batteries (grades: {graded}); price commitment "
                  f"0x{commitment.hex()}; price and salt stored in {data / 'prices.sqlite'}")


@app.command("confirm")
@reports_errors
def confirm(trade_id: int, rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
            relayer: RelayerOpt = None) -> None:
    """Confirm delivery once the seller moved custody of every battery to you (buyer)."""
    ledger, _ = open_ledger(rpc, deployment, relayer)
    ledger.trades.confirm_delivery(signer(key), trade_id)
    console.print(f"trade #{trade_id}: delivery confirmed")


@app.command("pay")
@reports_errors
def pay(trade_id: int, rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
        relayer: RelayerOpt = None) -> None:
    """Record that you paid (buyer); after the due date the payment is marked late."""
    ledger, _ = open_ledger(rpc, deployment, relayer)
    ledger.trades.record_payment(signer(key), trade_id)
    console.print(f"trade #{trade_id}: payment recorded{' (late)' if ledger.trades.trade(trade_id).paid_late else ''}")


@app.command("withdraw")
@reports_errors
def withdraw(trade_id: int, rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
             relayer: RelayerOpt = None) -> None:
    """Withdraw an undelivered, unpaid sale without an open dispute (seller)."""
    ledger, _ = open_ledger(rpc, deployment, relayer)
    ledger.trades.withdraw(signer(key), trade_id)
    console.print(f"trade #{trade_id} withdrawn")


@app.command("dispute")
@reports_errors
def dispute(trade_id: int, rpc: RpcOpt,
            reason: Annotated[Path, typer.Option(help="The complaint; its hash goes on-chain.")],
            deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
            relayer: RelayerOpt = None) -> None:
    """Open a dispute against the other party (seller or buyer)."""
    ledger, _ = open_ledger(rpc, deployment, relayer)
    ledger.trades.open_dispute(signer(key), trade_id, doc_hash(reason))
    console.print(f"trade #{trade_id}: dispute opened")


@app.command("close")
@reports_errors
def close(trade_id: int, outcome: Annotated[str, typer.Argument(help="upheld or dismissed")], rpc: RpcOpt,
          resolution: Annotated[Path, typer.Option(help="The decision; its hash goes on-chain.")],
          deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None) -> None:
    """Close the open dispute of a trade (the dispute authority, MOTIE by default)."""
    if outcome not in ("upheld", "dismissed"):
        raise ValueError(f"outcome must be upheld or dismissed, not {outcome!r}")
    ledger, _ = open_ledger(rpc, deployment)
    ledger.trades.close_dispute(signer(key), trade_id, outcome == "upheld", doc_hash(resolution))
    console.print(f"trade #{trade_id}: dispute closed ({outcome})")


@app.command("show")
@reports_errors
def show(trade_id: int, rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json")) -> None:
    """A trade as recorded on-chain, with its batteries' grades at the time of sale."""
    ledger, _ = open_ledger(rpc, deployment)
    t = ledger.trades.trade(trade_id)
    if t.seller == "0x" + "00" * 20:
        raise ValueError(f"trade #{trade_id} does not exist")
    data = {k: ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in t.__dict__.items()}
    data["batteries"] = [{"batteryId": "0x" + b.hex(), "grade": g.name.lower()}
                         for b, g in ledger.trades.batteries(trade_id)]
    console.print_json(json.dumps(data))


@app.command("check-price")
@reports_errors
def check(trade_id: int, rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"),
          data: DataOpt = Path("bledger-data")) -> None:
    """Check the stored price of a trade against its on-chain commitment (ministries)."""
    ledger, sender = open_ledger(rpc, deployment)
    store = data / "prices.sqlite"
    if not store.is_file():
        raise ValueError(f"no price store at {store}")
    record = check_price(PriceStore(store), ledger.trades, sender.chain_id, trade_id)
    console.print(f"trade #{trade_id}: the stored price {record.price:,} {record.currency} opens the on-chain "
                  "commitment")


@app.command("signals")
@reports_errors
def signals(rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"),
            data: DataOpt = Path("bledger-data")) -> None:
    """Unfair-practice signals for the authority: late payments, prices far from their index cell (governed
    threshold), repeated disputes against one party, undeclared lots."""
    ledger, _ = open_ledger(rpc, deployment)
    prices = PriceStore.in_data_dir(data) if (data / "prices.sqlite").is_file() else None
    found = compute(ledger, "authority", prices, data).signals
    for line in found or ["no signal"]:
        console.print(f"• {line}")

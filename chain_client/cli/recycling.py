"""``bledger recycle``: Annex XII period declarations (recyclers) and their attestation (MoE)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from chain_client.cli.common import (
    DeploymentOpt,
    KeyOpt,
    RelayerOpt,
    RpcOpt,
    console,
    doc_hash,
    open_ledger,
    parse_time,
    reports_errors,
    signer,
)
from chain_client.errors import LedgerError
from chain_client.passports import battery_id
from chain_client.recycling import ChemistryClass, PeriodDeclaration
from chain_client.vocabulary import Material

app = typer.Typer(no_args_is_help=True)
CLASSES = {c.label: c for c in ChemistryClass}
SYMBOLS = {m.symbol: m for m in Material}


def _grams(raw: Any, field: str) -> dict[Material, int]:
    if not isinstance(raw, dict):
        raise LedgerError(f"{field}: expected an object of grams by metal symbol")
    out = {}
    for symbol, grams in raw.items():
        if symbol not in SYMBOLS or not isinstance(grams, int) or grams < 0:
            raise LedgerError(f"{field}.{symbol}: expected a metal ({', '.join(SYMBOLS)}) and integer grams >= 0")
        out[SYMBOLS[symbol]] = grams
    return out


def read_declaration(path: Path) -> PeriodDeclaration:
    """A declaration file (JSON): chemistry, period, masses in integer grams, batteries, lots, evidence."""
    try:
        d = json.loads(path.read_text())
        if d["chemistry"] not in CLASSES:
            raise LedgerError(f"chemistry must be one of {', '.join(CLASSES)}")
        evidence = d.get("evidence")
        return PeriodDeclaration(
            CLASSES[d["chemistry"]], parse_time(str(d["periodStart"])), parse_time(str(d["periodEnd"])),
            int(d["inputMassGrams"]), int(d["outputMassGrams"]), _grams(d["inputMetalGrams"], "inputMetalGrams"),
            _grams(d["recoveredMetalGrams"], "recoveredMetalGrams"), [battery_id(b) for b in d["batteries"]],
            [int(lot) for lot in d.get("lots", [])], doc_hash(path.parent / evidence if evidence else None))
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise LedgerError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise LedgerError(f"{path}: missing or invalid field: {exc}") from None


@app.command("declare")
@reports_errors
def declare(file: Path, rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
            relayer: RelayerOpt = None) -> None:
    """Declare a reporting period (recycler): the efficiency and recovery rates are computed on-chain."""
    ledger, _ = open_ledger(rpc, deployment, relayer)
    declaration_id = ledger.recycling.declare(signer(key), read_declaration(file))
    _print(ledger.recycling, declaration_id)


@app.command("decide")
@reports_errors
def decide(action: Annotated[str, typer.Argument(help="attest or reject")], declaration_id: int, rpc: RpcOpt,
           reason: Annotated[Path | None, typer.Option(help="Reason document (reject).")] = None,
           deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None) -> None:
    """Attest or reject a pending declaration (MoE)."""
    if action not in ("attest", "reject"):
        raise ValueError(f"action must be attest or reject, not {action!r}")
    ledger, _ = open_ledger(rpc, deployment)
    if action == "attest":
        ledger.recycling.attest(signer(key), declaration_id)
    else:
        ledger.recycling.reject(signer(key), declaration_id, doc_hash(reason))
    _print(ledger.recycling, declaration_id)


@app.command("show")
@reports_errors
def show(declaration_id: int, rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"),
         year: Annotated[int, typer.Option(help="Milestone to compare with (0: the one in force).")] = 0) -> None:
    """A declaration, its rates and how it compares with the targets."""
    ledger, _ = open_ledger(rpc, deployment)
    _print(ledger.recycling, declaration_id, year)


def _print(recycling: Any, declaration_id: int, year: int = 0) -> None:
    d = recycling.declaration(declaration_id)
    if d.recycler == "0x" + "00" * 20:
        raise ValueError(f"declaration #{declaration_id} does not exist")
    a = recycling.assess(declaration_id, year)
    rec = ", ".join(f"{m.symbol} {d.recovery_bps[m] / 100:.2f} % (target {a.recovery_target_bps[m] / 100:g} %)"
                    for m in sorted(d.metals))
    console.print(f"declaration #{declaration_id} ({d.status.name.lower()}), {d.chemistry.label}: efficiency "
                  f"{d.efficiency_bps / 100:.2f} % (target {a.efficiency_target_bps / 100:g} %, milestone "
                  f"{a.year or 'none'}): {'meets' if a.meets_efficiency else 'misses'} it; recovery: {rec}: "
                  f"{'meets' if a.meets_recovery else 'misses'}")

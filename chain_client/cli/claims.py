"""``bledger claim``: usage claims (cell makers), attestation (MOTIE), verification (anyone)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rich.table import Table

from chain_client.claims import Allocation, ClaimRequest
from chain_client.input_checks import strict_json
from chain_client.cli.certificates import parse_material
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
from chain_client.vocabulary import CustodyModel, Material, identifier

app = typer.Typer(no_args_is_help=True)


class AllocationFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    lotId: int = Field(gt=0)
    grams: int = Field(gt=0)


class ClaimFile(BaseModel):
    """The JSON file of ``bledger claim open`` (see README). Numbers must be JSON numbers (strict: ``"10"`` is
    refused, not coerced)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    batteryModel: str = Field(min_length=1)
    plant: str = Field(min_length=1)
    periodStart: str | int
    periodEnd: str | int
    custodyModel: str = "mass_balance"
    contentGrams: dict[str, int]
    allocations: list[AllocationFile] = Field(min_length=1)
    batteriesRoot: str | None = None
    evidence: str | None = None

    @field_validator("custodyModel")
    @classmethod
    def _custody(cls, v: str) -> str:
        if v.upper() not in CustodyModel.__members__:
            raise ValueError(f"use one of {', '.join(m.lower() for m in CustodyModel.__members__)}")
        return v

    def to_request(self, base: Path) -> ClaimRequest:
        content: dict[Material, int] = {}
        for key, grams in self.contentGrams.items():
            if grams < 0:
                raise ValueError(f"contentGrams.{key} is negative")
            content[parse_material(key)] = grams
        evidence = (base / self.evidence) if self.evidence else None
        return ClaimRequest(
            identifier(self.batteryModel), identifier(self.plant), parse_time(str(self.periodStart)),
            parse_time(str(self.periodEnd)), CustodyModel[self.custodyModel.upper()], content,
            [Allocation(a.lotId, a.grams) for a in self.allocations],
            parse_bytes32(self.batteriesRoot) if self.batteriesRoot else b"\x00" * 32, doc_hash(evidence))


def read_claim_file(path: Path) -> ClaimRequest:
    """Parses and validates a claim file; every problem is reported with the file name."""
    try:
        data = strict_json(path.read_text(encoding="utf-8-sig"))
        return ClaimFile.model_validate(data).to_request(path.parent)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{path}: {problems}") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


@app.command("open")
@reports_errors
def open_(
    file: Annotated[Path, typer.Argument(help="Claim JSON file.")], rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
) -> None:
    """Open a usage claim from a JSON file (cell maker); its allocations are consumed at once."""
    request = read_claim_file(file)
    ledger, _ = open_ledger(rpc, deployment, relayer)
    claim_id = ledger.claims.open(signer(key), request)
    console.print(f"claim #{claim_id} opened")


@app.command()
@reports_errors
def decide(
    decision: Annotated[str, typer.Argument(help="attest or reject")], claim_id: int, rpc: RpcOpt,
    reason: Annotated[Path | None, typer.Option(help="Decision document (reject).")] = None,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
) -> None:
    """Attest or reject an open claim (MOTIE). A rejection returns the allocated quantities."""
    ledger, _ = open_ledger(rpc, deployment, relayer)
    if decision == "attest":
        ledger.claims.attest(signer(key), claim_id)
    elif decision == "reject":
        ledger.claims.reject(signer(key), claim_id, doc_hash(reason))
    else:
        raise ValueError(f"unknown decision {decision!r}: use attest or reject")
    console.print(f"claim #{claim_id}: {decision} done")


@app.command()
@reports_errors
def verify(claim_id: int, rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json")) -> None:
    """Show a claim's recycled shares and whether it meets each EU milestone (anyone, read-only)."""
    ledger, _ = open_ledger(rpc, deployment)
    claim = ledger.claims.claim(claim_id)
    tainted, lot_id = ledger.claims.is_tainted(claim_id)
    console.print(f"claim #{claim_id} by {claim.claimant}: {claim.status.name.lower()}, "
                  f"custody {claim.custody_model.name.lower()}" + (f", TAINTED by revoked lot #{lot_id}" if tainted else ""))
    years = ledger.claims.milestone_years()
    compliance = {y: ledger.claims.compliance(claim_id, y) for y in years}
    table = Table()
    for col in ("metal", "content g", "pre g", "post g", "share", *(f"EU {y} min" for y in years)):
        table.add_column(col, justify="right", overflow="fold")  # a long number wraps, never ends in "…"
    for m, s in ledger.claims.shares(claim_id).items():
        table.add_row(m.symbol, f"{s.content_grams:,}", f"{s.pre_consumer_grams:,}", f"{s.post_consumer_grams:,}",
                      f"{s.share_bps / 100:.2f} %", *(f"{compliance[y].minimum_bps[m] / 100:g} %" for y in years))
    console.print(table)
    for y in years:
        c = compliance[y]
        if not c.in_scope:
            console.print(f"EU {y} minimums: not in scope (Article 8 does not cover this model at this milestone)")
        elif not c.custody_counts:
            console.print(f"meets EU {y} minimums: False (the {claim.custody_model.name.lower()} custody model does "
                          "not count toward the share)")
        else:
            console.print(f"meets EU {y} minimums: {c.meets}")

"""``bledger registry``: business registration by the authorities."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chain_client.cli.common import (
    DeploymentOpt,
    KeyOpt,
    RelayerOpt,
    RpcOpt,
    address,
    console,
    doc_hash,
    open_ledger,
    parse_time,
    reports_errors,
    signer,
)
from chain_client.vocabulary import BusinessRole, identifier

app = typer.Typer(no_args_is_help=True)

ROLE_NAMES = ", ".join(r.name.lower() for r in BusinessRole)


def parse_roles(roles: list[str]) -> list[BusinessRole]:
    try:
        return [BusinessRole[r.upper().replace("-", "_")] for r in roles]
    except KeyError as exc:
        raise ValueError(f"unknown role {exc.args[0].lower()}: use {ROLE_NAMES}") from None


@app.command()
@reports_errors
def register(
    account: str, role: Annotated[list[str], typer.Option(help=f"Business role, repeatable: {ROLE_NAMES}.")],
    rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
    relayer: RelayerOpt = None,
    dossier: Annotated[Path | None, typer.Option(help="Registration dossier; its hash goes on-chain.")] = None,
) -> None:
    """Register a business with one or more roles (the signer must administer each role)."""
    account, roles = address(account, "account"), parse_roles(role)
    ledger, _ = open_ledger(rpc, deployment, relayer)
    receipt = ledger.registry.register(signer(key), account, roles, doc_hash(dossier))
    console.print(f"registered {account} as {', '.join(role)} (gas {receipt['gasUsed']})")


@app.command()
@reports_errors
def status(
    action: Annotated[str, typer.Argument(help="suspend, reinstate or revoke")], account: str, rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
    reason: Annotated[Path | None, typer.Option(help="Decision document; its hash goes on-chain.")] = None,
) -> None:
    """Suspend, reinstate or revoke the roles of a business that the signing authority administers."""
    account = address(account, "account")
    if action not in ("suspend", "reinstate", "revoke"):
        raise ValueError(f"unknown action {action!r}: use suspend, reinstate or revoke")
    ledger, _ = open_ledger(rpc, deployment, relayer)
    actions = {"suspend": ledger.registry.suspend, "reinstate": ledger.registry.reinstate,
               "revoke": ledger.registry.revoke}
    if action not in actions:
        raise ValueError(f"unknown action {action!r}: use suspend, reinstate or revoke")
    actions[action](signer(key), account, doc_hash(reason))
    p = ledger.registry.participant(account)
    roles = ", ".join(f"{r.name.lower()} {p.role_status(r).name.lower()}" for r in (*p.roles, *(
        r for r in p.revoked_roles if r not in p.roles)))
    console.print(f"{account}: {action} done (each authority acts on its own roles): {roles}")


@app.command()
@reports_errors
def facility(
    facility_id: str, operator: str, valid_from: str, valid_until: str, rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, relayer: RelayerOpt = None,
    scope: Annotated[Path | None, typer.Option(help="Scope registration document.")] = None,
) -> None:
    """Register a facility (e.g. a recycler's plant) with its validity window."""
    operator = address(operator, "operator")
    ledger, _ = open_ledger(rpc, deployment, relayer)
    ledger.registry.register_facility(signer(key), identifier(facility_id), operator, parse_time(valid_from),
                                      parse_time(valid_until), doc_hash(scope))
    console.print(f"facility {facility_id} registered for {operator}")


@app.command()
@reports_errors
def show(account: str, rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json")) -> None:
    """Show a participant's roles and status."""
    account = address(account, "account")
    ledger, _ = open_ledger(rpc, deployment)
    p = ledger.registry.participant(account)
    roles = ", ".join(f"{r.name.lower()} ({p.role_status(r).name.lower()})" for r in p.roles) or "-"
    revoked = [r.name.lower() for r in p.revoked_roles if r not in p.roles]
    console.print(f"{p.address}: {p.status.name.lower()}, roles: {roles}"
                  + (f"; revoked: {', '.join(revoked)}" if revoked else ""))

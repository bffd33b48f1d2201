"""Importer-side commands: ``bledger prove battery|claim`` (from a node) and ``bledger verify`` (offline)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from chain_client.backends import RpcBackend
from chain_client.cli.common import DeploymentOpt, KeyOpt, RpcOpt, console, err_console, reports_errors
from chain_client.errors import LedgerError
from chain_client.ledger_state import VerificationFailure
from chain_client.proofs import battery_bundle, battery_bundle_from_index, bundle_bytes, claim_bundle, trust_anchors
from chain_client.suite import Deployment
from chain_client.verifier import load_trust, render, verify_bundle

prove = typer.Typer(no_args_is_help=True)
credential = typer.Typer(no_args_is_help=True)

OutOpt = Annotated[Path, typer.Option("--out", help="Where to write the proof bundle.")]
TrustOutOpt = Annotated[
    Path | None,
    typer.Option("--trust-out", help="Also write the anchors this node knows (block hash or Clique signers, "
                                     "contracts, storage layout): for demos and tests; importers get them from the "
                                     "ministries."),
]
ConfirmationsOpt = Annotated[
    int, typer.Option(help="Clique: prove the block this many blocks below the head and add the headers above it.")
]
BlockOpt = Annotated[int | None, typer.Option(help="Prove the state at this block (default: the latest).")]


def _open(rpc: str | Sequence[str], deployment: Path) -> tuple[RpcBackend, Deployment]:
    if not deployment.is_file():
        raise LedgerError(f"deployment file {deployment} not found")
    return RpcBackend(rpc), Deployment.load(deployment)


def _write(bundle: dict[str, object], out: Path, trust_out: Path | None, backend: RpcBackend, dep: Deployment,
           confirmations: int) -> None:
    data = bundle_bytes(bundle)
    out.write_bytes(data)
    console.print(f"bundle written to {out} ({len(data):,} bytes)")
    if trust_out is not None:
        trust = trust_anchors(backend.w3, dep, bundle, confirmations=confirmations)
        trust_out.write_text(json.dumps(trust, indent=1) + "\n")
        console.print(f"trust anchors written to {trust_out} ({trust['anchor']['type']})")


def _read_batteries(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LedgerError(f"cannot read {path}: {exc.strerror}") from None
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@prove.command("battery")
@reports_errors
def prove_battery(
    identifier: Annotated[str, typer.Argument(help="The battery's identifier, e.g. KR:KCELL:EV:0000002.")],
    rpc: RpcOpt,
    deployment: DeploymentOpt,
    out: OutOpt,
    batteries: Annotated[Path | None, typer.Option(
        help="The identifiers the claim's batteries root covers, one a line (default: the battery's imported batch "
             "from the --data index).")] = None,
    data: Annotated[Path, typer.Option("--data", envvar="BLEDGER_DATA",
                                       help="Folder of the battery index and the batch files.")] = Path("bledger-data"),
    claim: Annotated[int | None, typer.Option(help="The claim (default: the attested claim over --batteries).")] = None,
    batch_batteries: Annotated[Path | None, typer.Option(
        help="A battery without its own record: the identifiers of its batch (default: --batteries).")] = None,
    trust_out: TrustOutOpt = None,
    block: BlockOpt = None,
    confirmations: ConfirmationsOpt = 0,
) -> None:
    """Write the proof bundle of one battery: its record, the claim covering it, lots, shares, EU result."""
    backend, dep = _open(rpc, deployment)
    if batteries is not None:
        bundle = battery_bundle(backend.w3, dep, identifier.strip(), _read_batteries(batteries), claim, block,
                                confirmations, _read_batteries(batch_batteries) if batch_batteries else None)
    else:
        if not (data / "index.sqlite").is_file():
            raise LedgerError(f"no battery index in {data}: give --batteries FILE (the claim's battery list) or --data")
        from chain_client.passport_documents import PassportDocuments

        with PassportDocuments(data) as docs:
            bundle = battery_bundle_from_index(backend.w3, dep, docs.index, identifier.strip(), claim, block,
                                               confirmations)
    _write(bundle, out, trust_out, backend, dep, confirmations)


@prove.command("claim")
@reports_errors
def prove_claim(
    claim_id: Annotated[int, typer.Argument(help="The usage claim's id.")],
    rpc: RpcOpt,
    deployment: DeploymentOpt,
    out: OutOpt,
    trust_out: TrustOutOpt = None,
    block: BlockOpt = None,
    confirmations: ConfirmationsOpt = 0,
) -> None:
    """Write the proof bundle of a usage claim: allocations, lot statuses, per-metal shares, EU result."""
    backend, dep = _open(rpc, deployment)
    _write(claim_bundle(backend.w3, dep, claim_id, block, confirmations), out, trust_out, backend, dep, confirmations)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LedgerError(f"cannot read the {what} {path}: {exc.strerror}") from None


def verify(
    bundle: Annotated[Path, typer.Argument(help="The proof bundle (JSON).")],
    trust: Annotated[Path, typer.Option("--trust", help="The trust file: pinned anchors, contracts, layout.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Verify a proof bundle offline (no network): exit 0 with the verdict, or 1 naming the first failure."""
    try:
        trust_file = load_trust(_read(trust, "trust file"))
        verdict = verify_bundle(_read(bundle, "bundle"), trust_file)
    except (LedgerError, VerificationFailure) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(verdict.as_dict(), indent=1, sort_keys=True))
    else:
        print(render(verdict))
    raise typer.Exit(0 if verdict.ok else 1)


@credential.command("export")
@reports_errors
def credential_export(
    kind: Annotated[str, typer.Argument(help="lot (issued by MoE) or claim (issued by MOTIE).")],
    record_id: Annotated[int, typer.Argument(help="The lot or claim id.")],
    rpc: RpcOpt,
    deployment: DeploymentOpt,
    key: KeyOpt,
    out: Annotated[Path, typer.Option("--out", help="Where to write the credential (vc+jwt).")],
    json_out: Annotated[Path | None, typer.Option("--json-out", help="Also write the unsigned credential.")] = None,
) -> None:
    """Export a W3C Verifiable Credential (2.0, vc+jwt, ES256K) of a certified lot or an attested claim."""
    from chain_client.cli.common import open_ledger, signer
    from chain_client.credentials import claim_credential, lot_credential, sign_jwt

    if kind not in ("lot", "claim"):
        raise LedgerError(f"{kind!r} is neither lot nor claim")
    ledger, _ = open_ledger(rpc, deployment)
    issuer = signer(key)
    cred = lot_credential(ledger, record_id, issuer) if kind == "lot" else claim_credential(ledger, record_id, issuer)
    out.write_text(sign_jwt(cred, issuer) + "\n")
    if json_out is not None:
        json_out.write_text(json.dumps(cred, indent=2) + "\n")
    console.print(f"{kind} #{record_id} credential signed by {issuer.address} written to {out}")


@credential.command("verify")
def credential_verify(
    path: Annotated[Path, typer.Argument(help="The credential (vc+jwt).")],
    trust: Annotated[Path, typer.Option("--trust", help="The trust file (pins MoE and MOTIE keys, contracts).")],
    status: Annotated[Path | None, typer.Option("--status", help="A proof bundle proving the record's status.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Verify a credential offline: signature, pinned issuer, and (with --status) the on-chain status it names."""
    from chain_client.credential_check import render_credential, verify_credential

    try:
        trust_file = load_trust(_read(trust, "trust file"))
        text = _read(path, "credential").decode("ascii", errors="replace")
        verdict = verify_credential(text, trust_file, _read(status, "status bundle") if status else None)
    except (LedgerError, VerificationFailure) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    print(json.dumps(verdict.as_dict(), indent=1, sort_keys=True) if as_json else render_credential(verdict))
    raise typer.Exit(0 if verdict.ok else 1)


def attach(app: typer.Typer) -> None:
    app.add_typer(prove, name="prove", help="Proof bundles for importers (needs a node serving eth_getProof).")
    app.command("verify")(verify)
    app.add_typer(credential, name="credential", help="W3C Verifiable Credentials of lots (MoE) and claims (MOTIE).")

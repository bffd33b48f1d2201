"""Options and connection helpers shared by the CLI commands."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from eth_account.signers.local import LocalAccount
from rich.console import Console

from chain_client.backends import RpcBackend
from chain_client.errors import LedgerError
from chain_client.keys import load_account
from chain_client.suite import Deployment, Ledger
from chain_client.transactions import TxSender
from chain_client.vocabulary import document_hash

# Wide enough for the reports when the output is a file or a CI log.
console = Console(width=None if sys.stdout.isatty() else 110)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 110)

RpcOpt = Annotated[str, typer.Option("--rpc", envvar="BLEDGER_RPC", help="JSON-RPC URL of the node.")]
DeploymentOpt = Annotated[
    Path, typer.Option("--deployment", envvar="BLEDGER_DEPLOYMENT", help="Deployment file (addresses).")
]
KeyOpt = Annotated[
    str | None,
    typer.Option("--key", envvar="BLEDGER_KEY",
                 help="Signing key (no default): env:NAME, keystore:PATH, or dev:N on a dev chain (id 31337/1337)."),
]
RelayerOpt = Annotated[
    str | None,
    typer.Option("--relayer", envvar="BLEDGER_RELAYER",
                 help="Relay through the forwarder, gas paid by this key (the signer only signs)."),
]

F = TypeVar("F", bound=Callable[..., Any])


class KeyPolicy:
    """Where ``dev:N`` keys are accepted: the chain the command talks to (set when it connects) and the global
    ``bledger --allow-dev-keys`` flag."""

    chain_id: int | None = None
    allow_dev_keys: bool = False


def reports_errors(fn: F) -> F:
    """Turns ledger errors (reverts, bad keys, bad files) into a one-line message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (LedgerError, ValueError) as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def open_ledger(rpc: str, deployment: Path, relayer: str | None = None) -> tuple[Ledger, TxSender]:
    backend = RpcBackend(rpc)
    if not deployment.is_file():
        raise LedgerError(f"deployment file {deployment} not found: run `bledger deploy --rpc URL --out {deployment}`")
    sender = TxSender(backend.w3)
    KeyPolicy.chain_id = sender.chain_id
    ledger = Ledger(backend.w3, Deployment.load(deployment), sender)
    if relayer:
        ledger = ledger.relayed(sender, signer(relayer))
    return ledger, sender


def signer(key: str | None) -> LocalAccount:
    """The key the user chose; ``dev:N`` only on a dev chain (or with ``--allow-dev-keys``)."""
    if not key:
        raise LedgerError("no signing key chosen: pass --key (or set BLEDGER_KEY) with env:NAME or keystore:PATH")
    return load_account(key, chain_id=KeyPolicy.chain_id, allow_dev_keys=KeyPolicy.allow_dev_keys)


def parse_bytes32(value: str) -> bytes:
    """A 0x-prefixed 32-byte hex value, as given."""
    raw = value.removeprefix("0x")
    if len(raw) != 64:
        raise ValueError(f"{value!r} is not a 32-byte hex value")
    return bytes.fromhex(raw)


def parse_time(value: str) -> int:
    """Unix seconds, or an ISO date / date-time (UTC when no zone is given)."""
    if value.isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is neither unix seconds nor an ISO date") from None
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())


def doc_hash(path: Path | None) -> bytes:
    return document_hash(path) if path else b"\x00" * 32

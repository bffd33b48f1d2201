"""Options and connection helpers shared by the CLI commands."""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.text import Text

from chain_client.backends import RpcBackend
from chain_client.deployment_check import verify_deployment
from chain_client.errors import LedgerError
from chain_client.input_checks import InputError, explain_abi_mismatch, parse_address, parse_decimal, readable_file

__all__ = ["InputError", "parse_address", "parse_decimal", "readable_file"]
from chain_client.keys import load_account
from chain_client.suite import Deployment, Ledger
from chain_client.transactions import TxSender
from chain_client.vocabulary import document_hash

# Output that is not a terminal (a file, a pipe, a CI log) is never wrapped or cut: lines stay whole and tables take
# the width they need. No emoji codes (an identifier such as KR:B:1 stays as written).
_WIDE = 100_000
console = Console(width=None if sys.stdout.isatty() else _WIDE, emoji=False, soft_wrap=not sys.stdout.isatty())
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else _WIDE, emoji=False, soft_wrap=True)

RpcOpt = Annotated[list[str], typer.Option(
    "--rpc", envvar="BLEDGER_RPC",
    help="JSON-RPC URL of the node; several nodes of one chain: repeat --rpc or give a comma list (failover).")]
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


def fail(message: str, code: int = 1) -> typer.Exit:
    """Prints ``error: message`` (as plain text: no markup is interpreted) and returns the exit to raise."""
    err_console.print(Text.assemble(("error:", "red"), " ", message))
    return typer.Exit(code)


def error_message(exc: BaseException) -> str:
    """One line for any exception a command can meet."""
    if isinstance(exc, (LedgerError, ValueError)):
        return str(exc)
    if isinstance(exc, sqlite3.DatabaseError):
        return f"database error: {exc}"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    if type(exc).__name__ in ("Web3ValidationError", "EncodingError", "ValidationError", "MismatchedABI"):
        explained = explain_abi_mismatch(exc)
        if explained:
            return explained
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        return f"invalid argument: {first}"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text: {exc}"
    return f"unexpected {type(exc).__name__}: {exc}"


def reports_errors(fn: F) -> F:
    """No traceback reaches the user: every failure of a command becomes one ``error:`` line and exit code 1
    (``BLEDGER_DEBUG=1`` prints the traceback of an unexpected one too)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.exceptions.TyperException):
            raise
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except (LedgerError, ValueError, OSError, sqlite3.DatabaseError) as exc:
            raise fail(error_message(exc)) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence: one clear line, never a traceback
            if os.environ.get("BLEDGER_DEBUG"):
                traceback.print_exc()
            raise fail(error_message(exc)) from None

    return wrapper  # type: ignore[return-value]


def open_ledger(rpc: str | Sequence[str], deployment: Path, relayer: str | None = None) -> tuple[Ledger, TxSender]:
    """The suite of ``deployment`` on the node at ``rpc`` (or several nodes of one chain), after checking that the
    file describes this chain (chain id, code at every address, the deployment block's hash)."""
    if not deployment.is_file():
        raise LedgerError(f"deployment file {deployment} not found: run `bledger deploy --rpc URL --out {deployment}`")
    loaded = Deployment.load(deployment)
    backend = RpcBackend(rpc, confirmations=confirmations_setting())
    verify_deployment(backend.w3, loaded, str(deployment))
    sender = TxSender(backend.w3)
    KeyPolicy.chain_id = sender.chain_id
    ledger = Ledger(backend.w3, loaded, sender)
    if relayer:
        ledger = ledger.relayed(sender, signer(relayer))
    return ledger, sender


def confirmations_setting(value: int | None = None) -> int | None:
    """K, the confirmations before an act is reported final: ``value``, else ``BLEDGER_CONFIRMATIONS``, else None
    (the client's default for the node: 1 on dev nodes, 3 on a Clique network)."""
    raw = value if value is not None else os.environ.get("BLEDGER_CONFIRMATIONS")
    if raw is None or raw == "":
        return None
    try:
        k = int(raw)
    except ValueError:
        raise ValueError(f"BLEDGER_CONFIRMATIONS={raw!r} is not a whole number") from None
    if k < 1:
        raise ValueError(f"confirmations must be at least 1, not {k}")
    return k


def signer(key: str | None) -> LocalAccount:
    """The key the user chose; ``dev:N`` only on a dev chain (or with ``--allow-dev-keys``)."""
    if not key:
        raise LedgerError("no signing key chosen: pass --key (or set BLEDGER_KEY) with env:NAME or keystore:PATH")
    return load_account(key, chain_id=KeyPolicy.chain_id, allow_dev_keys=KeyPolicy.allow_dev_keys)


def address(value: str, what: str = "address") -> str:
    """An address given on the command line (EIP-55 checked)."""
    return parse_address(value, what)


def percent_bps(value: str, name: str, decimals: int = 2) -> int:
    """A percentage given on the command line (``28``, ``30.5``) in basis points; more decimals are refused."""
    return parse_decimal(value, name, decimals, low=Decimal(0), high=Decimal(100)) * 10 ** (2 - decimals)


def input_file(path: Path | None, what: str = "file") -> Path | None:
    """``path`` checked to be a readable file (None stays None)."""
    return None if path is None else readable_file(path, what)


def writable_path(path: Path, what: str = "output file") -> Path:
    """``path`` checked to be writable (its folder exists and is writable; it is not a folder)."""
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{what} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"{what} {path} is not writable")
    return path



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
    return document_hash(readable_file(path, "document")) if path else b"\x00" * 32

"""Where signing keys come from: encrypted keystore files, the environment, or a dev chain's funded accounts."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain_client.errors import LedgerError

#: The mnemonic anvil and Hardhat fund by default (public test keys; never use them on a real network).
DEV_MNEMONIC = "test test test test test test test test test test test junk"


class KeyError_(LedgerError):
    """A key could not be loaded."""


def from_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypts an Ethereum keystore (V3) file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise KeyError_(f"cannot read keystore {path}: {exc}") from exc
    try:
        key = Account.decrypt(data, password)
    except ValueError as exc:
        raise KeyError_(f"cannot decrypt keystore {path}: wrong password or damaged file") from exc
    return Account.from_key(key)


def to_keystore(account: LocalAccount, path: Path, password: str) -> None:
    """Writes ``account`` as an encrypted keystore (V3) file readable only by its owner."""
    path.write_text(json.dumps(Account.encrypt(account.key, password)))
    path.chmod(0o600)


def from_env(name: str) -> LocalAccount:
    """Loads a hex private key from environment variable ``name``."""
    value = os.environ.get(name)
    if not value:
        raise KeyError_(f"environment variable {name} is not set (expected a hex private key)")
    try:
        return Account.from_key(value)
    except (ValueError, TypeError) as exc:
        raise KeyError_(f"environment variable {name} does not hold a valid private key") from exc


def dev_accounts(count: int) -> list[LocalAccount]:
    """The first ``count`` accounts of :data:`DEV_MNEMONIC` (m/44'/60'/0'/0/i)."""
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)]


def load_account(spec: str, password: str | None = None) -> LocalAccount:
    """Loads a key from ``env:NAME``, ``keystore:PATH`` (password from argument or ``BLEDGER_KEY_PASSWORD``),
    or ``dev:N`` (dev mnemonic index)."""
    kind, _, value = spec.partition(":")
    if kind == "env":
        return from_env(value)
    if kind == "keystore":
        pw = password if password is not None else os.environ.get("BLEDGER_KEY_PASSWORD")
        if pw is None:
            raise KeyError_("keystore password missing: pass --password or set BLEDGER_KEY_PASSWORD")
        return from_keystore(Path(value), pw)
    if kind == "dev" and value.isdigit():
        return dev_accounts(int(value) + 1)[int(value)]
    raise KeyError_(f"unknown key source {spec!r}: use env:NAME, keystore:PATH or dev:N")

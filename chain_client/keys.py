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

#: Chain ids of local dev nodes (anvil and Hardhat: 31337; geth --dev and Ganache: 1337). ``dev:N`` keys are
#: accepted there only, unless explicitly allowed.
DEV_CHAIN_IDS = frozenset({31337, 1337})


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
    except (ValueError, KeyError, TypeError) as exc:  # a wrong password, or no keystore at all (``{}``)
        raise KeyError_(f"cannot decrypt keystore {path}: wrong password or damaged file") from exc
    return Account.from_key(key)


def to_keystore(account: LocalAccount, path: Path, password: str) -> None:
    """Writes ``account`` as an encrypted keystore (V3) file readable only by its owner.

    The file is created with mode 0600 from the start (a temporary file in the same folder, opened with that mode
    and moved into place), so it is never readable by others, not even for an instant, whatever the umask."""
    payload = json.dumps(Account.encrypt(account.key, password)).encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the mode given to open() is reduced by the umask, never widened: make it exact
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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


def load_account(spec: str, password: str | None = None, *, chain_id: int | None = None,
                 allow_dev_keys: bool = False) -> LocalAccount:
    """Loads a key from ``env:NAME``, ``keystore:PATH`` (password from argument or ``BLEDGER_KEY_PASSWORD``),
    or ``dev:N`` (dev mnemonic index: public keys, accepted only on a dev chain, ``chain_id`` 31337 or 1337, or
    with ``allow_dev_keys``)."""
    kind, _, value = spec.partition(":")
    if kind == "env":
        return from_env(value)
    if kind == "keystore":
        pw = password if password is not None else os.environ.get("BLEDGER_KEY_PASSWORD")
        if pw is None:
            raise KeyError_("keystore password missing: pass --password or set BLEDGER_KEY_PASSWORD")
        return from_keystore(Path(value), pw)
    if kind == "dev" and value.isdigit():
        if not allow_dev_keys and chain_id not in DEV_CHAIN_IDS:
            where = "an unknown chain" if chain_id is None else f"chain {chain_id}"
            raise KeyError_(f"{spec} is a public dev key (anyone can sign with it): refused on {where}; use "
                            "env:NAME or keystore:PATH, or --allow-dev-keys if this really is a throwaway chain")
        return dev_accounts(int(value) + 1)[int(value)]
    raise KeyError_(f"unknown key source {spec!r}: use env:NAME, keystore:PATH or dev:N")

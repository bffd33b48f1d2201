"""Key sources: encrypted keystores, the environment, dev accounts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from eth_account import Account

from chain_client.keys import KeyError_, dev_accounts, from_keystore, load_account, to_keystore


def test_keystore_round_trip(tmp_path: Path) -> None:
    account = Account.create()
    path = tmp_path / "key.json"
    to_keystore(account, path, "s3cret")
    assert path.stat().st_mode & 0o777 == 0o600
    assert from_keystore(path, "s3cret").address == account.address
    assert load_account(f"keystore:{path}", "s3cret").address == account.address
    with pytest.raises(KeyError_, match="wrong password or damaged file"):
        from_keystore(path, "nope")
    path.write_text("{not json")
    with pytest.raises(KeyError_, match="cannot read keystore"):
        from_keystore(path, "s3cret")


def test_environment_and_dev_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    account = Account.create()
    monkeypatch.setenv("BL_TEST_KEY", account.key.hex())
    assert load_account("env:BL_TEST_KEY").address == account.address
    monkeypatch.setenv("BL_TEST_KEY", "0x1234")
    with pytest.raises(KeyError_, match="does not hold a valid private key"):
        load_account("env:BL_TEST_KEY")
    with pytest.raises(KeyError_, match="is not set"):
        load_account("env:BL_UNSET_KEY")
    # the well-known first account of the dev mnemonic, accepted on a dev chain only (or when allowed)
    assert dev_accounts(1)[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert load_account("dev:0", chain_id=31337).address == dev_accounts(1)[0].address
    assert load_account("dev:1", chain_id=1337).address == dev_accounts(2)[1].address
    assert load_account("dev:0", chain_id=4242, allow_dev_keys=True).address == dev_accounts(1)[0].address
    for chain_id in (None, 1, 4242, 131277322940537):
        with pytest.raises(KeyError_, match="public dev key"):
            load_account("dev:0", chain_id=chain_id)
    with pytest.raises(KeyError_, match="unknown key source"):
        load_account("file:/x")
    monkeypatch.delenv("BLEDGER_KEY_PASSWORD", raising=False)
    with pytest.raises(KeyError_, match="password missing"):
        load_account("keystore:/x")


def test_a_keystore_is_never_readable_by_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Mode 0600 from creation on, whatever the umask, also when replacing a file that was 0644."""
    seen: list[int] = []
    real_open, real_replace = os.open, os.replace

    def watching_open(path: str, flags: int, mode: int = 0o777) -> int:
        fd = real_open(path, flags, mode)
        seen.append(os.fstat(fd).st_mode & 0o777)  # the mode the moment the file exists
        return fd

    def watching_replace(src: Path, dst: Path) -> None:
        seen.append(os.stat(src).st_mode & 0o777)  # the mode when it takes the keystore's name, content written
        real_replace(src, dst)

    monkeypatch.setattr(os, "open", watching_open)
    monkeypatch.setattr(os, "replace", watching_replace)
    old = os.umask(0)
    try:
        path = tmp_path / "key.json"
        path.write_text("old")
        path.chmod(0o644)
        to_keystore(Account.create(), path, "pw")
    finally:
        os.umask(old)
    assert len(seen) == 2 and set(seen) == {0o600}
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["key.json"]

"""Key sources: encrypted keystores, the environment, dev accounts."""

from __future__ import annotations

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
    # the well-known first account of the dev mnemonic
    assert dev_accounts(1)[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    with pytest.raises(KeyError_, match="unknown key source"):
        load_account("file:/x")
    monkeypatch.delenv("BLEDGER_KEY_PASSWORD", raising=False)
    with pytest.raises(KeyError_, match="password missing"):
        load_account("keystore:/x")

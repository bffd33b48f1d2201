"""Sending: nonces under concurrent senders, reverts of mined transactions, revert decoding."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from eth_abi import encode
from eth_account import Account

from chain_client.errors import decode_revert
from chain_client.vocabulary import BusinessRole
from tests.conftest import World
from tests.helpers import reverts


def test_concurrent_senders_share_one_key_safely(world: World) -> None:
    newcomers = [Account.create().address for _ in range(12)]
    reg = world.ledger.registry
    with ThreadPoolExecutor(max_workers=4) as pool:
        receipts = list(pool.map(lambda a: reg.register(world.motie, a, [BusinessRole.CELL_MAKER]), newcomers))
    assert all(r["status"] == 1 for r in receipts)
    assert all(reg.is_active(a, BusinessRole.CELL_MAKER) for a in newcomers)
    nonces = sorted(world.backend.w3.eth.get_transaction(r["transactionHash"])["nonce"] for r in receipts)
    assert nonces == list(range(nonces[0], nonces[0] + 12))


def test_a_mined_failure_is_decoded_by_replay(world: World) -> None:
    # explicit gas skips the estimate, so the transaction is mined and fails; the error is recovered by replay
    call = world.ledger.certificates.contract.functions.certifyLot(5)
    reverts(lambda: world.sender.submit(world.moe, call, gas=100_000), "CertificatesUnknownLot", lotId=5)
    # the nonce counter stays in step after the failure
    world.ledger.registry.register(world.motie, Account.create().address, [BusinessRole.CELL_MAKER])


def test_decoding_of_standard_reverts() -> None:
    error = decode_revert(bytes.fromhex("08c379a0") + encode(["string"], ["boom"]))
    assert (error.name, error.args_by_name) == ("Error", {"message": "boom"})
    panic = decode_revert(bytes.fromhex("4e487b71") + encode(["uint256"], [0x11]))
    assert (panic.name, panic.args_by_name["code"]) == ("Panic", 0x11)
    assert decode_revert(b"").name == "EmptyRevert"
    assert decode_revert(bytes.fromhex("deadbeef")).name == "UnknownRevert"
    assert str(decode_revert("0x" + bytes.fromhex("08c379a0").hex() + encode(["string"], ["x"]).hex())) == \
        "Error(message='x')"


def test_revert_data_holding_quote_bytes_decodes(world: World) -> None:
    """eth-tester prints raw revert data as a Python bytes literal: a 0x27 byte (') switches it to double quotes,
    0x22 and 0x27 together to escapes. Each decodes to its custom error, estimated or mined and replayed."""
    certs = world.ledger.certificates.contract.functions
    for lot in (0x27, 0x2227, 0x5C27):
        reverts(lambda: world.sender.submit(world.moe, certs.certifyLot(lot)), "CertificatesUnknownLot", lotId=lot)
        reverts(lambda: world.sender.submit(world.moe, certs.certifyLot(lot), gas=100_000), "CertificatesUnknownLot",
                lotId=lot)


def test_an_error_string_revert_decodes_on_every_backend(world: World) -> None:
    """A require-string revert (the Safe's ``GS0xx`` codes) is ``Error(message)`` on both backends."""
    safe = world.ledger.committee.safe.functions
    reverts(lambda: world.sender.submit(world.stranger, safe.changeThreshold(1)), "Error", message="GS031")
    reverts(lambda: world.sender.submit(world.stranger, safe.changeThreshold(1), gas=100_000), "Error",
            message="GS031")

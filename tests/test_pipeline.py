"""Pipelined sends: a stream of acts handed to the node without waiting for each receipt, awaited at the end.

Run on the embedded chain (automine: each act is mined as it arrives) and on anvil, like the rest of the suite.
"""

from __future__ import annotations

import pytest
from web3.types import Wei

from chain_client.errors import ContractRevert
from chain_client.transactions import Act, ActsFailed
from chain_client.vocabulary import identifier
from tests.conftest import World
from tests.helpers import reverts

ACTS = 50


def _nonces(world: World, acts: list[Act]) -> list[int]:
    return [int(world.backend.w3.eth.get_transaction(a.tx_hash)["nonce"]) for a in acts]


def test_fifty_pipelined_transfers_are_all_mined_in_nonce_order(world: World) -> None:
    lot = world.certified_lot(grams=1_000)
    with world.sender.pipeline() as p:
        certs = world.ledger.certificates.via(p)
        for i in range(ACTS):
            certs.transfer(world.recycler, lot, world.cell_maker.address, 1, identifier(f"SHIP-P-{i}"))
        assert len(p.acts) == ACTS
    receipts = [a.result() for a in p.acts]
    assert all(r["status"] == 1 for r in receipts)
    nonces = _nonces(world, p.acts)
    assert nonces == list(range(nonces[0], nonces[0] + ACTS))
    blocks = [r["blockNumber"] for r in receipts]
    assert blocks == sorted(blocks)
    assert world.ledger.certificates.balance(lot, world.cell_maker.address) == ACTS
    assert world.ledger.certificates.balance(lot, world.recycler.address) == 1_000 - ACTS
    # the nonce counter is in step afterwards: a plain act goes through
    world.ledger.certificates.transfer(world.recycler, lot, world.cell_maker.address, 1, identifier("SHIP-AFTER"))


def test_a_failure_in_the_middle_is_decoded_and_the_other_acts_land(world: World) -> None:
    lot = world.certified_lot(grams=100)
    transfer = world.ledger.certificates.contract.functions.transfer
    with pytest.raises(ActsFailed) as info, world.sender.pipeline() as p:
        for i in range(20):
            grams = 10_000 if i == 10 else 1  # act #10 asks for more than the recycler holds
            p.add(world.recycler, transfer(lot, world.cell_maker.address, grams, identifier(f"SHIP-F-{i}")),
                  gas=200_000)  # explicit gas: no estimate, so the act is mined and fails
    (failed,) = info.value.failed
    assert failed.position == 10
    assert "act #10: CertificatesInsufficientBalance(" in str(info.value)
    reverts(failed.result, "CertificatesInsufficientBalance", lotId=lot, holder=world.recycler.address,
            needed=10_000)
    assert [a.result()["status"] for a in p.acts if a is not failed] == [1] * 19
    assert world.ledger.certificates.balance(lot, world.cell_maker.address) == 19
    nonces = _nonces(world, p.acts)
    assert nonces == list(range(nonces[0], nonces[0] + 20))


def test_an_act_that_would_revert_is_refused_before_sending_and_the_stream_goes_on(world: World) -> None:
    lot = world.certified_lot(grams=100)
    with world.sender.pipeline() as p:
        certs = world.ledger.certificates.via(p)
        certs.transfer(world.recycler, lot, world.cell_maker.address, 1, identifier("SHIP-E-1"))
        reverts(lambda: certs.transfer(world.recycler, lot, world.cell_maker.address, 500, identifier("SHIP-E-2")),
                "CertificatesInsufficientBalance", lotId=lot, needed=500)
        certs.transfer(world.recycler, lot, world.cell_maker.address, 2, identifier("SHIP-E-3"))
    assert len(p.acts) == 2  # the refused act was never sent
    nonces = _nonces(world, p.acts)
    assert nonces[1] == nonces[0] + 1  # and took no nonce
    assert world.ledger.certificates.balance(lot, world.cell_maker.address) == 3


def test_a_method_that_reads_its_receipt_awaits_the_pipeline(world: World) -> None:
    """``apply`` returns the lot id from its event: reading the act awaits it, and the id is right."""
    with world.sender.pipeline() as p:
        certs = world.ledger.certificates.via(p)
        first = certs.apply(world.recycler, world.application(grams=10))
        second = certs.apply(world.recycler, world.application(grams=20))
    assert second == first + 1
    assert world.ledger.certificates.lot(second).mass_grams == 20


def test_relayed_acts_pipeline_and_keep_the_signer(world: World) -> None:
    lot = world.certified_lot(grams=100)
    relayed = world.relayed()
    with world.sender.pipeline() as p:
        certs = relayed.certificates.via(p)
        for i in range(5):
            certs.transfer(world.recycler, lot, world.cell_maker.address, 3, identifier(f"SHIP-R-{i}"))
    assert all(a.result()["status"] == 1 for a in p.acts)
    assert {world.backend.w3.eth.get_transaction(a.tx_hash)["from"] for a in p.acts} == {world.portal.address}
    assert world.ledger.certificates.balance(lot, world.cell_maker.address) == 15


def test_a_relayed_failure_when_mined_resets_the_signers_forwarder_nonce(world: World) -> None:
    lot = world.certified_lot(grams=100)
    relayed = world.relayed()
    submitter = relayed.certificates.submitter
    transfer = world.ledger.certificates.contract.functions.transfer
    with pytest.raises(ActsFailed), world.sender.pipeline() as p:
        through = submitter.through(p)  # type: ignore[attr-defined]
        request = through.sign(world.recycler, transfer(lot, world.cell_maker.address, 500, identifier("SHIP-RF")),
                               gas=200_000)  # both gases given: nothing is estimated, the request fails when mined
        through.relay(request, gas=400_000)
    # the forwarder nonce the failed request used is free again: the next relayed act goes through
    relayed.certificates.transfer(world.recycler, lot, world.cell_maker.address, 4, identifier("SHIP-RF-2"))
    assert world.ledger.certificates.balance(lot, world.cell_maker.address) == 4


def test_a_single_submit_raises_the_decoded_error_not_a_pipeline_error(world: World) -> None:
    call = world.ledger.certificates.contract.functions.certifyLot(77)
    with pytest.raises(ContractRevert):
        world.sender.submit(world.moe, call, gas=100_000)


def test_plain_transfers_of_two_accounts_interleaved_all_land(world: World) -> None:
    w3 = world.backend.w3
    payers = [world.stranger, world.importer]
    to = world.cell_maker2.address
    start = w3.eth.get_balance(to)
    with world.sender.pipeline() as p:
        for i in range(10):
            p.add_transaction(payers[i % 2], {"to": to, "value": Wei(7), "gas": 21_000,
                                              "gasPrice": Wei(world.sender.gas_price), "chainId": world.sender.chain_id})
    assert all(a.result()["status"] == 1 for a in p.acts)
    assert w3.eth.get_balance(to) == start + 70

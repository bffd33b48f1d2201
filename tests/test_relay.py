"""Meta-transactions: participants sign, the portal relays; the contracts see the signer only."""

from __future__ import annotations

from chain_client.relay import RelayedSubmitter
from chain_client.vocabulary import LotStatus, identifier
from tests.conftest import World
from tests.helpers import reverts


def relayer(world: World) -> RelayedSubmitter:
    return RelayedSubmitter(world.sender, world.portal, world.ledger.forwarder)


def test_relayed_act_is_the_signers_act(world: World) -> None:
    relayed = world.relayed()
    portal_balance = world.backend.w3.eth.get_balance(world.recycler.address)
    lot_id = relayed.certificates.apply(world.recycler, world.application())
    assert world.ledger.certificates.lot(lot_id).recycler == world.recycler.address
    assert world.backend.w3.eth.get_balance(world.recycler.address) == portal_balance  # the portal paid the gas
    relayed.certificates.certify(world.moe, lot_id)
    assert world.ledger.certificates.lot(lot_id).status == LotStatus.CERTIFIED


def test_relayed_call_fails_with_the_targets_own_error(world: World) -> None:
    r = relayer(world)
    call = world.ledger.certificates.contract.functions.certifyLot(1)
    request = r.sign(world.recycler, call, gas=200_000)  # fixed gas: skip the signer-side estimate
    reverts(lambda: r.relay(request), "AccessControlUnauthorizedAccount", account=world.recycler.address)


def test_the_relayer_cannot_act_as_itself(world: World) -> None:
    # the portal is not a registered recycler: its own call is refused even though it relays for recyclers
    reverts(lambda: world.ledger.certificates.apply(world.portal, world.application()), "RegistryUnknownParticipant",
            account=world.portal.address)


def test_replayed_signature_is_refused(world: World) -> None:
    r = relayer(world)
    lot_id = world.certified_lot(grams=1_000)
    call = world.ledger.certificates.contract.functions.transfer(
        lot_id, world.cell_maker.address, 100, identifier("SHIP-R"))
    request = r.sign(world.recycler, call)
    r.relay(request)
    reverts(lambda: r.relay(request), "ERC2771ForwarderInvalidSigner", **{"from": world.recycler.address})
    assert world.ledger.certificates.balance(lot_id, world.cell_maker.address) == 100


def test_tampered_request_is_refused(world: World) -> None:
    r = relayer(world)
    lot_id = world.certified_lot(grams=1_000)
    call = world.ledger.certificates.contract.functions.transfer(
        lot_id, world.cell_maker.address, 100, identifier("SHIP-T"))
    request = r.sign(world.recycler, call)
    forged = world.ledger.certificates.contract.functions.transfer(
        lot_id, world.processor.address, 900, identifier("SHIP-T"))
    request["data"] = bytes.fromhex(forged._encode_transaction_data()[2:])
    reverts(lambda: r.relay(request), "ERC2771ForwarderInvalidSigner", **{"from": world.recycler.address})
    assert world.ledger.certificates.balance(lot_id, world.recycler.address) == 1_000


def test_expired_signature_is_refused(world: World) -> None:
    r = relayer(world)
    r.ttl_seconds = 60
    call = world.ledger.certificates.contract.functions.applyForLot(world.application().as_tuple())
    request = r.sign(world.recycler, call)
    latest = int(world.backend.w3.eth.get_block("latest")["timestamp"])
    world.backend.advance_time(max(request["deadline"] - latest, 0) + 3_600)
    reverts(lambda: r.relay(request), "ERC2771ForwarderExpiredRequest", deadline=request["deadline"])
    assert world.ledger.certificates.lot_count() == 0


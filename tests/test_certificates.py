"""Production certificates: application, decision, transfer, and every rule that guards them."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from chain_client.vocabulary import BusinessRole, LotStatus, Material, ParticipantStatus, identifier
from tests.conftest import DAY, FACILITY2, World
from tests.helpers import reverts

SHIP = identifier("SHIP-1")


def test_apply_certify_credits_the_recycler(world: World) -> None:
    certs = world.ledger.certificates
    app = world.application(Material.NICKEL, 250_000)
    lot_id = certs.apply(world.recycler, app)
    lot = certs.lot(lot_id)
    assert (lot.status, lot.recycler, lot.mass_grams, lot.material) == (
        LotStatus.PENDING, world.recycler.address, 250_000, Material.NICKEL)
    assert certs.balance(lot_id, world.recycler.address) == 0
    certs.certify(world.moe, lot_id)
    assert certs.lot(lot_id).status == LotStatus.CERTIFIED
    assert certs.balance(lot_id, world.recycler.address) == 250_000
    # the stored commitment binds the full application
    from eth_abi import encode
    from eth_utils import keccak
    types = "(uint8,uint8,uint128,bytes32,bytes32,uint64,uint64,bytes32,bytes32)"
    assert lot.application_hash == keccak(encode([types], [app.as_tuple()]))
    # what other contracts read of a lot in one slot agrees with the record
    terms = certs.contract.functions.lotTerms(lot_id).call()
    assert tuple(terms) == (int(LotStatus.CERTIFIED), int(Material.NICKEL), int(app.feedstock), app.period_end)
    assert tuple(certs.contract.functions.lotTerms(lot_id + 1).call()) == (int(LotStatus.NONE), 0, 0, 0)


def test_only_active_recyclers_apply(world: World) -> None:
    certs = world.ledger.certificates
    reverts(lambda: certs.apply(world.cell_maker, world.application()), "RegistryMissingRole",
            account=world.cell_maker.address, anyOfRoles=BusinessRole.RECYCLER.bit)
    reverts(lambda: certs.apply(world.stranger, world.application()), "RegistryUnknownParticipant",
            account=world.stranger.address)
    assert certs.lot_count() == 0


def test_application_rules(world: World) -> None:
    certs = world.ledger.certificates
    app = world.application()
    reverts(lambda: certs.apply(world.recycler, replace(app, mass_grams=0)), "CertificatesZeroQuantity")
    # the lot record keeps the mass in 96 bits (packed beside the recycler): a larger mass is refused, not truncated
    reverts(lambda: certs.apply(world.recycler, replace(app, mass_grams=2**96)), "CertificatesMassTooLarge",
            massGrams=2**96)
    future = replace(app, period_end=world.now + 10 * DAY)
    reverts(lambda: certs.apply(world.recycler, future), "CertificatesInvalidPeriod")
    backwards = replace(app, period_start=app.period_end + 1)
    reverts(lambda: certs.apply(world.recycler, backwards), "CertificatesInvalidPeriod")
    reverts(lambda: certs.apply(world.recycler, replace(app, facility_id=FACILITY2)),
            "RegistryFacilityOperatorMismatch", facilityId=FACILITY2, account=world.recycler.address)
    reverts(lambda: certs.apply(world.recycler, replace(app, facility_id=identifier("NOWHERE"))),
            "RegistryUnknownFacility")
    before_validity = replace(app, period_start=world.now - 400 * DAY)
    reverts(lambda: certs.apply(world.recycler, before_validity), "RegistryFacilityNotValid")
    world.ledger.registry.revoke_facility(world.moe, app.facility_id)
    reverts(lambda: certs.apply(world.recycler, app), "RegistryFacilityNotValid", facilityId=app.facility_id)
    assert certs.lot_count() == 0


def test_expired_facility_cannot_produce(world: World) -> None:
    certs, reg = world.ledger.certificates, world.ledger.registry
    reg.renew_facility(world.moe, world.application().facility_id, world.now - 20 * DAY)
    reverts(lambda: certs.apply(world.recycler, world.application()), "RegistryFacilityNotValid")


def test_only_moe_decides_and_only_once(world: World) -> None:
    certs = world.ledger.certificates
    lot_id = certs.apply(world.recycler, world.application())
    for wrong in (world.motie, world.recycler, world.deployer):
        reverts(partial(certs.certify, wrong, lot_id), "AccessControlUnauthorizedAccount", account=wrong.address)
    certs.reject(world.moe, lot_id, b"\x05" * 32)
    assert certs.lot(lot_id).status == LotStatus.REJECTED
    reverts(lambda: certs.certify(world.moe, lot_id), "CertificatesInvalidLotStatus", lotId=lot_id,
            status=LotStatus.REJECTED)
    assert certs.balance(lot_id, world.recycler.address) == 0
    reverts(lambda: certs.certify(world.moe, 99), "CertificatesUnknownLot", lotId=99)
    other = world.certified_lot()
    reverts(lambda: certs.certify(world.moe, other), "CertificatesInvalidLotStatus", status=LotStatus.CERTIFIED)
    reverts(lambda: certs.reject(world.moe, other), "CertificatesInvalidLotStatus", status=LotStatus.CERTIFIED)
    pending = certs.apply(world.recycler, world.application())
    reverts(lambda: certs.revoke(world.moe, pending), "CertificatesInvalidLotStatus", status=LotStatus.PENDING)
    reverts(lambda: certs.revoke(world.motie, other), "AccessControlUnauthorizedAccount")


def test_partial_transfers_move_quantity_between_registered_holders(world: World) -> None:
    certs = world.ledger.certificates
    lot_id = world.certified_lot(grams=1_000)
    certs.transfer(world.recycler, lot_id, world.processor.address, 400, SHIP)
    certs.transfer(world.processor, lot_id, world.cell_maker.address, 150, identifier("SHIP-2"))
    balances = [certs.balance(lot_id, p.address) for p in (world.recycler, world.processor, world.cell_maker)]
    assert balances == [600, 250, 150]


def test_transfer_rules_leave_balances_unchanged(world: World) -> None:
    certs = world.ledger.certificates
    lot_id = world.certified_lot(grams=1_000)
    rec = world.recycler
    cases = [
        (lambda: certs.transfer(rec, lot_id, world.stranger.address, 1, SHIP), "RegistryUnknownParticipant",
         {"account": world.stranger.address}),
        (lambda: certs.transfer(rec, lot_id, world.importer.address, 1, SHIP), "RegistryMissingRole",
         {"account": world.importer.address}),
        (lambda: certs.transfer(rec, lot_id, world.cell_maker.address, 1_001, SHIP), "CertificatesInsufficientBalance",
         {"lotId": lot_id, "holder": rec.address, "balance": 1_000, "needed": 1_001}),
        (lambda: certs.transfer(rec, lot_id, world.cell_maker.address, 0, SHIP), "CertificatesZeroQuantity", {}),
        (lambda: certs.transfer(rec, lot_id, rec.address, 1, SHIP), "CertificatesSelfTransfer", {"holder": rec.address}),
        (lambda: certs.transfer(rec, lot_id, world.cell_maker.address, 1, b"\0" * 32),
         "CertificatesMissingShipmentRef", {}),
        (lambda: certs.transfer(world.processor, lot_id, world.cell_maker.address, 1, SHIP),
         "CertificatesInsufficientBalance", {"balance": 0, "needed": 1}),
        (lambda: certs.transfer(world.stranger, lot_id, world.cell_maker.address, 1, SHIP),
         "RegistryUnknownParticipant", {"account": world.stranger.address}),
        (lambda: certs.transfer(rec, 42, world.cell_maker.address, 1, SHIP), "CertificatesUnknownLot", {"lotId": 42}),
    ]
    for action, name, args in cases:
        reverts(action, name, **args)
    assert certs.balance(lot_id, rec.address) == 1_000
    pending = certs.apply(rec, world.application())
    reverts(lambda: certs.transfer(rec, pending, world.cell_maker.address, 1, SHIP), "CertificatesInvalidLotStatus",
            status=LotStatus.PENDING)


def test_suspended_holders_cannot_send_or_receive(world: World) -> None:
    certs, reg = world.ledger.certificates, world.ledger.registry
    lot_id = world.certified_lot(grams=1_000)
    reg.suspend(world.motie, world.cell_maker.address)
    reverts(lambda: certs.transfer(world.recycler, lot_id, world.cell_maker.address, 1, SHIP),
            "RegistryParticipantNotActive", account=world.cell_maker.address, status=ParticipantStatus.SUSPENDED)
    reg.suspend(world.moe, world.recycler.address)
    reverts(lambda: certs.transfer(world.recycler, lot_id, world.processor.address, 1, SHIP),
            "RegistryParticipantNotActive", account=world.recycler.address)
    assert certs.balance(lot_id, world.recycler.address) == 1_000


def test_revoked_lot_is_frozen(world: World) -> None:
    certs = world.ledger.certificates
    lot_id = world.certified_lot(grams=1_000)
    certs.revoke(world.moe, lot_id, b"\x09" * 32)
    assert certs.lot(lot_id).status == LotStatus.REVOKED
    reverts(lambda: certs.transfer(world.recycler, lot_id, world.cell_maker.address, 1, SHIP),
            "CertificatesInvalidLotStatus", lotId=lot_id, status=LotStatus.REVOKED)


def test_only_the_authorised_consumer_consumes(world: World) -> None:
    certs = world.ledger.certificates
    lot_id = world.certified_lot(grams=1_000)
    fn = certs.contract.functions
    reverts(lambda: world.sender.submit(world.recycler, fn.consume(lot_id, world.recycler.address, 10, 1)),
            "CertificatesUnauthorizedConsumer", caller=world.recycler.address)
    reverts(lambda: world.sender.submit(world.recycler, fn.release(lot_id, world.recycler.address, 10, 1)),
            "CertificatesUnauthorizedConsumer")
    reverts(lambda: world.sender.submit(world.moe, fn.setConsumer(world.moe.address, True)),
            "AccessControlUnauthorizedAccount", account=world.moe.address)
    assert certs.balance(lot_id, world.recycler.address) == 1_000

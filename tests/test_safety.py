"""Safety inspections, transport state-of-charge limit, storage capacity."""

from __future__ import annotations

import pytest

from chain_client import rule_changes
from chain_client.logistics import InspectionKind
from chain_client.passports import battery_id
from chain_client.rules import DEFAULT_INSPECTION
from chain_client.vocabulary import BatteryStatus, identifier
from tests.conftest import DAY, MODEL, World
from tests.helpers import reverts

BAT_NAME = "KR:KCELL:EV:0000888"
BAT = battery_id(BAT_NAME)
PRE, POST = InspectionKind.PRE_DISTRIBUTION, InspectionKind.POST_DISTRIBUTION
SITE = identifier("KR-STORAGE-1")


@pytest.fixture
def removed(world: World) -> World:
    p = world.ledger.passports
    p.register(world.cell_maker, BAT_NAME, MODEL)
    p.transfer(world.cell_maker, BAT, world.ev_maker.address)
    p.put_in_service(world.ev_maker, BAT, b"\x0e" * 32)
    world.evaluate(BAT)
    p.mark_removed(world.ev_maker, BAT)
    return world


def test_used_battery_changes_hands_only_with_a_valid_pre_distribution_pass(removed: World) -> None:
    w, p = removed, removed.ledger.passports
    move = lambda: p.transfer(w.ev_maker, BAT, w.reuser.address)  # noqa: E731
    reverts(move, "InspectionMissing", batteryId=BAT, kind=PRE)
    w.inspect(BAT, PRE, passed=False)
    reverts(move, "InspectionFailed", batteryId=BAT, kind=PRE)
    w.backend.advance_time(DEFAULT_INSPECTION.retest_wait_seconds)
    w.inspect(BAT, PRE, days=10, body="inspector2")  # a failure is re-tested by another body after the wait
    w.backend.advance_time(11 * DAY)
    error = reverts(move, "InspectionExpired", batteryId=BAT, kind=PRE)
    assert error.args_by_name["validUntil"] < w.chain_time()
    assert p.battery(BAT).operator == w.ev_maker.address
    w.inspect(BAT, PRE)
    move()
    assert p.battery(BAT).operator == w.reuser.address


def test_second_use_installation_needs_a_post_distribution_pass(removed: World) -> None:
    w, p = removed, removed.ledger.passports
    w.inspect(BAT, PRE)
    p.transfer(w.ev_maker, BAT, w.reuser.address)
    reverts(lambda: p.record_installation(w.reuser, BAT, identifier("ESS-1")), "PassportInvalidTransition",
            **{"from": BatteryStatus.REMOVED})
    second = battery_id("KR:REUSE:0001")
    p.start_second_life(w.reuser, BAT, "KR:REUSE:0001", BatteryStatus.REUSED)
    reverts(lambda: p.record_installation(w.reuser, second, identifier("ESS-1")), "InspectionMissing",
            batteryId=second, kind=POST)
    w.inspect(second, PRE)  # the wrong kind does not count
    reverts(lambda: p.record_installation(w.reuser, second, identifier("ESS-1")), "InspectionMissing", kind=POST)
    w.inspect(second, POST)
    p.record_installation(w.reuser, second, identifier("ESS-1"), b"\x44" * 32)
    assert p.battery(second).link == identifier("ESS-1")


def test_inspection_rules(removed: World) -> None:
    w, ins = removed, removed.ledger.inspections
    reverts(lambda: ins.record(w.recycler, BAT, PRE, True, w.chain_time() + DAY), "RegistryMissingRole",
            account=w.recycler.address)
    reverts(lambda: ins.record(w.inspector, battery_id("KR:NOPE"), PRE, True, w.chain_time() + DAY),
            "InspectionUnknownBattery")
    past = w.chain_time() - 1
    reverts(lambda: ins.record(w.inspector, BAT, PRE, True, past), "InspectionInvalidValidity", validUntil=past)
    assert ins.inspection(BAT, PRE).body == "0x" + "00" * 20


def test_dispatch_above_the_state_of_charge_limit_is_refused(removed: World) -> None:
    world = removed
    lg = world.ledger.logistics
    assert lg.max_soc_bps() == 3_000
    reverts(lambda: lg.ship(world.transporter, BAT, world.ev_maker.address, world.storage.address, 3_100, 9),
            "TransportStateOfChargeTooHigh", socBps=3_100, maxSocBps=3_000)
    receipt = lg.ship(world.transporter, BAT, world.ev_maker.address, world.storage.address, 3_000, 9)
    leg = lg.contract.events.ShipmentLegRecorded().process_receipt(receipt)[0]["args"]
    assert (leg["socBps"], leg["packagingClass"], leg["transporter"]) == (3_000, 9, world.transporter.address)
    reverts(lambda: lg.ship(world.dismantler, BAT, world.ev_maker.address, world.storage.address, 100, 9),
            "RegistryMissingRole", account=world.dismantler.address)
    reverts(lambda: lg.ship(world.transporter, BAT, world.stranger.address, world.storage.address, 100, 9),
            "RegistryUnknownParticipant", account=world.stranger.address)
    reverts(lambda: lg.set_max_soc(world.motie, 5_000), "AccessControlUnauthorizedAccount")
    reverts(lambda: lg.set_max_soc(world.moe, 2_500), "AccessControlUnauthorizedAccount")  # a committee decision
    reverts(lambda: world.govern(rule_changes.soc_limit(world.ledger, 0)), "TransportInvalidPolicy", maxSocBps=0)
    world.govern(rule_changes.soc_limit(world.ledger, 2_500))
    reverts(lambda: lg.ship(world.transporter, BAT, world.ev_maker.address, world.storage.address, 2_600, 9),
            "TransportStateOfChargeTooHigh", socBps=2_600, maxSocBps=2_500)


def test_storage_intake_never_exceeds_the_permitted_capacity(world: World) -> None:
    lg, op = world.ledger.logistics, world.storage
    reverts(lambda: lg.register_site(world.transporter, SITE, 100_000), "RegistryMissingRole")
    reverts(lambda: lg.register_site(op, SITE, 0), "StorageZeroEnergy")
    lg.register_site(op, SITE, 100_000, b"\x9e" * 32)
    reverts(lambda: lg.register_site(op, SITE, 1), "StorageSiteExists", siteId=SITE)
    names = [f"KR:KCELL:S:{i}" for i in range(3)]
    for name in names:  # new batteries, handed to the storage operator
        world.ledger.passports.register(world.cell_maker, name, MODEL)
        world.ledger.passports.transfer(world.cell_maker, battery_id(name), op.address)
    a, b, c = (battery_id(n) for n in names)
    lg.intake(op, SITE, a, 60_000)
    lg.intake(op, SITE, b, 40_000)
    reverts(lambda: lg.intake(op, SITE, c, 1), "StorageCapacityExceeded", siteId=SITE, capacityWh=100_000,
            storedWh=100_000, intakeWh=1)
    reverts(lambda: lg.intake(op, SITE, a, 1), "StorageAlreadyStored", batteryId=a, siteId=SITE)
    lg.register_site(op, identifier("KR-STORAGE-2"), 100_000)
    reverts(lambda: lg.intake(op, identifier("KR-STORAGE-2"), a, 1), "StorageAlreadyStored", batteryId=a,
            siteId=SITE)  # one site at a time
    assert lg.site(SITE).stored_wh == 100_000
    lg.release(op, SITE, a)
    assert (lg.site(SITE).stored_wh, lg.stored_energy(SITE, a)) == (40_000, 0)
    lg.intake(op, SITE, c, 60_000)
    reverts(lambda: lg.release(op, SITE, a), "StorageNotStored", batteryId=a, siteId=SITE)
    reverts(lambda: lg.intake(op, identifier("NOWHERE"), a, 1), "StorageUnknownSite")
    reverts(lambda: lg.intake(op, SITE, a, 0), "StorageZeroEnergy")
    other = world.recycler2  # not a storage operator
    reverts(lambda: lg.release(other, SITE, c), "RegistryMissingRole", account=other.address)

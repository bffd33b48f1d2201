"""Annex XII period declarations: efficiency and recovery on-chain, consistency with passports and certified lots."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from chain_client import rule_changes
from chain_client.cli.recycling import read_declaration
from chain_client.errors import LedgerError
from chain_client.passports import battery_id
from chain_client.recycling import ANNEX_XII, ChemistryClass, DeclarationStatus, PeriodDeclaration, RecyclingMilestone
from chain_client.vocabulary import Feedstock, Material, document_hash
from tests.conftest import DAY, MODEL, World
from tests.helpers import reverts

NAMES = ("KR:KCELL:EV:R0001", "KR:KCELL:EV:R0002")
A, B = (battery_id(n) for n in NAMES)
LI, NI, CO = Material.LITHIUM, Material.NICKEL, Material.COBALT
KG = 1_000


@pytest.fixture
def recycled(world: World) -> tuple[World, int]:
    """Two batteries recycled by the recycler into its certified lithium lot of 20 kg."""
    p = world.ledger.passports
    lot = world.certified_lot(LI, 20 * KG)
    for name in NAMES:
        bid = battery_id(name)
        p.register(world.cell_maker, name, MODEL)
        p.transfer(world.cell_maker, bid, world.ev_maker.address)
        p.put_in_service(world.ev_maker, bid, b"\x0e" * 32)
        world.evaluate(bid)
        p.mark_removed(world.ev_maker, bid)
        p.mark_waste(world.ev_maker, bid)
        p.transfer(world.ev_maker, bid, world.recycler.address)
        p.mark_recycled(world.recycler, bid, lot)
    return world, lot


def declaration(w: World, lot: int, output_kg: int = 720, li_kg: int = 22, **changes: object) -> PeriodDeclaration:
    now = w.chain_time()
    base = PeriodDeclaration(
        ChemistryClass.LITHIUM_BASED, now - 60 * DAY, now, 1_000 * KG, output_kg * KG,
        {LI: 30 * KG, NI: 180 * KG, CO: 40 * KG}, {LI: li_kg * KG, NI: 168 * KG, CO: 38 * KG},
        (A, B), (lot,), document_hash("mass balance Q3"))
    return replace(base, **changes)  # type: ignore[arg-type]


def test_efficiency_and_recovery_are_computed_on_chain_and_compared_with_the_targets(
        recycled: tuple[World, int]) -> None:
    w, lot = recycled
    r = w.ledger.recycling
    assert r.milestone_years() == [m.year for m in ANNEX_XII]
    d_id = r.declare(w.recycler, declaration(w, lot))
    d = r.declaration(d_id)
    assert (d.efficiency_bps, d.status, d.metals) == (7_200, DeclarationStatus.PENDING, frozenset({LI, NI, CO}))
    assert (d.recovery_bps[LI], d.recovery_bps[NI], d.recovery_bps[CO], d.recovery_bps[Material.LEAD]) == (
        7_333, 9_333, 9_500, 0)  # floored basis points; no lead in the input
    now_assessment = r.assess(d_id)  # the milestone in force at the end of the period: end 2025
    assert now_assessment.year == 2025 and now_assessment.efficiency_target_bps == 6_500 and now_assessment.meets
    a2027 = r.assess(d_id, 2027)
    assert a2027.meets_efficiency and a2027.meets_recovery  # Li 73.33 % >= 50 %, Ni 93.33 % >= 90 %, Co 95 % >= 90 %
    a2031 = r.assess(d_id, 2031)
    assert a2031.efficiency_target_bps == 7_000 and a2031.meets_efficiency
    assert not a2031.meets_recovery  # Li 73.33 % < 80 %, Ni 93.33 % < 95 %
    assert r.declaration_of_battery(A) == d_id and r.declaration_of_lot(lot) == d_id
    reverts(lambda: r.attest(w.motie, d_id), "AccessControlUnauthorizedAccount", account=w.motie.address)
    r.attest(w.moe, d_id)
    assert r.declaration(d_id).status == DeclarationStatus.ATTESTED
    reverts(lambda: r.reject(w.moe, d_id), "RecyclingInvalidStatus", declarationId=d_id,
            status=DeclarationStatus.ATTESTED)


def test_a_declaration_below_the_efficiency_target_is_recorded_and_reads_as_missing_it(
        recycled: tuple[World, int]) -> None:
    w, lot = recycled
    r = w.ledger.recycling
    d_id = r.declare(w.recycler, declaration(w, lot, output_kg=600))
    a = r.assess(d_id)
    assert (r.declaration(d_id).efficiency_bps, a.efficiency_target_bps, a.meets_efficiency, a.meets) == (
        6_000, 6_500, False, False)


def test_a_declaration_is_refused_unless_every_rule_holds(recycled: tuple[World, int]) -> None:
    w, lot = recycled
    r = w.ledger.recycling
    now = w.chain_time()
    declare = lambda who, d: lambda: r.declare(who, d)  # noqa: E731
    reverts(declare(w.processor, declaration(w, lot)), "RegistryMissingRole", account=w.processor.address)
    reverts(declare(w.stranger, declaration(w, lot)), "RegistryUnknownParticipant")
    reverts(declare(w.recycler, declaration(w, lot, period_end=now + DAY)), "RecyclingInvalidPeriod")
    reverts(declare(w.recycler, declaration(w, lot, period_start=now, period_end=now - 1)), "RecyclingInvalidPeriod")
    reverts(declare(w.recycler, declaration(w, lot, input_mass_grams=0)), "RecyclingImpossibleMass")
    reverts(declare(w.recycler, declaration(w, lot, output_kg=1_001)), "RecyclingImpossibleMass",
            input=1_000 * KG, output=1_001 * KG)
    reverts(declare(w.recycler, declaration(w, lot, li_kg=31)), "RecyclingImpossibleMass", material=int(LI),
            input=30 * KG, output=31 * KG)
    reverts(declare(w.recycler, declaration(w, lot, output_kg=200)), "RecyclingImpossibleMass",
            input=200 * KG, output=228 * KG)  # the recovered metals exceed the declared output
    reverts(declare(w.recycler, declaration(w, lot, batteries=())), "RecyclingNoBatteries")
    reverts(declare(w.recycler2, declaration(w, lot, lots=())), "RecyclingNotRecycledBy", batteryId=A,
            recycler=w.recycler2.address)  # another recycler's passports
    other = battery_id("KR:KCELL:EV:LIVE")
    w.ledger.passports.register(w.cell_maker, "KR:KCELL:EV:LIVE", MODEL)
    reverts(declare(w.recycler, declaration(w, lot, batteries=(A, other))), "RecyclingNotRecycledBy", batteryId=other)
    recycled_at = w.ledger.passports.battery(A).updated_at
    reverts(declare(w.recycler, declaration(w, lot, period_end=recycled_at - 1)), "RecyclingBatteryOutsidePeriod",
            batteryId=A, recycledAt=recycled_at)
    reverts(declare(w.recycler, declaration(w, lot, batteries=(A, A))), "RecyclingBatteryDeclared", batteryId=A)
    # declaration output below certified lots: the 20 kg lithium lot of the period needs >= 20 kg Li recovered
    reverts(declare(w.recycler, declaration(w, lot, li_kg=19)), "RecyclingOutputBelowCertified", material=int(LI),
            recoveredGrams=19 * KG, certifiedGrams=20 * KG)
    lot2 = w.ledger.certificates.apply(w.recycler2, w.application(LI, 5 * KG, facility=_facility2()))
    w.ledger.certificates.certify(w.moe, lot2)
    reverts(declare(w.recycler, declaration(w, lot, lots=(lot, lot2))), "RecyclingLotMismatch", lotId=lot2,
            recycler=w.recycler.address)  # another recycler's lot
    late_start = w.ledger.certificates.lot(lot).period_end + 1
    reverts(declare(w.recycler, declaration(w, lot, period_start=late_start, batteries=(A,))),
            "RecyclingLotMismatch", lotId=lot)  # the lot's production period ended before the declared period
    reverts(declare(w.recycler, declaration(w, lot, lots=(lot, lot))), "RecyclingLotDeclared", lotId=lot)
    pre = w.certified_lot(LI, 5 * KG, Feedstock.PRE_CONSUMER)  # manufacturing scrap is not waste batteries
    reverts(declare(w.recycler, declaration(w, lot, lots=(lot, pre))), "RecyclingLotMismatch", lotId=pre)
    assert r.declaration_count() == 0 and r.declaration_of_battery(A) == 0 and r.declaration_of_lot(lot) == 0


def test_a_passport_or_lot_counts_in_one_declaration_until_moe_rejects_it(recycled: tuple[World, int]) -> None:
    w, lot = recycled
    r = w.ledger.recycling
    first = r.declare(w.recycler, declaration(w, lot, batteries=(A,)))
    reverts(lambda: r.declare(w.recycler, declaration(w, lot, lots=())), "RecyclingBatteryDeclared", batteryId=A,
            declarationId=first)
    reverts(lambda: r.declare(w.recycler, declaration(w, lot, batteries=(B,))), "RecyclingLotDeclared", lotId=lot,
            declarationId=first)
    reverts(lambda: r.reject(w.motie, first), "AccessControlUnauthorizedAccount")
    r.reject(w.moe, first, document_hash("scale records missing"))
    reverts(lambda: r.attest(w.moe, first), "RecyclingInvalidStatus", status=DeclarationStatus.REJECTED)
    assert r.declaration_of_battery(A) == 0
    second = r.declare(w.recycler, declaration(w, lot))  # the corrected declaration
    assert r.declaration_of_battery(A) == second and r.declaration_of_lot(lot) == second
    w.ledger.registry.suspend(w.moe, w.recycler.address)
    reverts(lambda: r.attest(w.moe, second), "RegistryParticipantNotActive", account=w.recycler.address)
    reverts(lambda: r.attest(w.moe, 99), "RecyclingUnknownDeclaration", declarationId=99)


def test_recycling_targets_are_governed(world: World) -> None:
    r = world.ledger.recycling
    m = RecyclingMilestone(2035, world.chain_time() - DAY, {ChemistryClass.LITHIUM_BASED: 9_000}, {LI: 9_000})
    reverts(lambda: r.set_targets(world.moe, m), "AccessControlUnauthorizedAccount", account=world.moe.address)
    reverts(lambda: world.govern(rule_changes.recycling_targets(world.ledger, replace(m, effective_from=0))),
            "RecyclingInvalidMilestone", year=2035)
    reverts(lambda: world.govern(rule_changes.recycling_targets(world.ledger, replace(m, recovery_bps={LI: 10_001}))),
            "RecyclingInvalidMilestone")
    reverts(lambda: r.milestone(2035), "RecyclingUnknownMilestone", year=2035)
    assert r.milestone_at(world.chain_time()) == 2025
    world.govern(rule_changes.recycling_targets(world.ledger, m))
    assert r.milestone(2035).as_tuple() == m.as_tuple() and r.milestone_at(world.chain_time()) == 2035


def _facility2() -> bytes:
    from tests.conftest import FACILITY2
    return FACILITY2


def test_declaration_files_are_validated(tmp_path: Path) -> None:
    good = {"chemistry": "lithium-based", "periodStart": "2026-07-01", "periodEnd": "2026-09-30",
            "inputMassGrams": 4_000_000, "outputMassGrams": 2_900_000, "inputMetalGrams": {"Li": 120_000},
            "recoveredMetalGrams": {"Li": 95_000}, "batteries": ["KR:KCELL:EV:0001"], "lots": [1]}
    path = tmp_path / "declaration.json"
    path.write_text(json.dumps(good))
    d = read_declaration(path)
    assert (d.chemistry, d.input_metal_grams, d.batteries) == (
        ChemistryClass.LITHIUM_BASED, {LI: 120_000}, [battery_id("KR:KCELL:EV:0001")])
    for bad, message in (({"chemistry": "nickel"}, "chemistry must be one of"),
                         ({"inputMetalGrams": {"Fe": 1}}, "inputMetalGrams.Fe"),
                         ({"recoveredMetalGrams": {"Li": -1}}, "recoveredMetalGrams.Li"),
                         ({"inputMassGrams": None}, "missing or invalid field")):
        path.write_text(json.dumps({**good, **bad}))
        with pytest.raises(LedgerError, match=message):
            read_declaration(path)
    path.write_text("{")
    with pytest.raises(LedgerError, match="invalid JSON"):
        read_declaration(path)

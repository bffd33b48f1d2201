"""Usage claims: allocation, on-chain ratios, attestation, rejection, double spend, taint, EU minimums."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from chain_client.events import events_in
from chain_client import rule_changes
from chain_client.claims import Allocation, ClaimRequest
from chain_client.passports import ModelSpec
from chain_client.vocabulary import (
    BatteryCategory,
    BusinessRole,
    ClaimStatus,
    CustodyModel,
    Feedstock,
    Material,
    ParticipantStatus,
    identifier,
)
from tests.conftest import DAY, MODEL, World
from tests.helpers import reverts

LI, NI, CO = Material.LITHIUM, Material.NICKEL, Material.COBALT


FULL = {LI: 1_000_000, NI: 8_000_000, CO: 1_000_000}


def request(world: World, allocations: list[Allocation], content: dict[Material, int] | None = None,
            model: bytes = MODEL) -> ClaimRequest:
    """A claim on the base state's NCM model (Li, Ni, Co): ``content`` overrides some metals of :data:`FULL`."""
    return ClaimRequest(
        battery_model=model,
        plant=identifier("PLANT-OCHANG-2"),
        period_start=world.now - 180 * DAY,
        period_end=world.now - DAY,
        custody_model=CustodyModel.MASS_BALANCE,
        content_grams=(content or {}) if model != MODEL else {**FULL, **(content or {})},
        allocations=allocations,
        batteries_root=b"\x33" * 32,
        evidence_hash=b"\x44" * 32,
    )


def test_shares_are_computed_on_chain_per_metal_and_feedstock(world: World) -> None:
    li = world.lot_held_by_cell_maker(LI, 70_000)
    ni_pre = world.lot_held_by_cell_maker(NI, 200_000, Feedstock.PRE_CONSUMER)
    ni_post = world.lot_held_by_cell_maker(NI, 300_000)
    co = world.lot_held_by_cell_maker(CO, 170_000)
    claims = world.ledger.claims
    allocs = [Allocation(li, 65_000), Allocation(ni_pre, 200_000), Allocation(ni_post, 290_000),
              Allocation(co, 170_000)]
    claim_id = claims.open(world.cell_maker, request(world, allocs))
    shares = claims.shares(claim_id)
    assert set(shares) == {LI, NI, CO}
    assert (shares[LI].share_bps, shares[LI].post_consumer_bps, shares[LI].pre_consumer_bps) == (650, 650, 0)
    assert (shares[NI].pre_consumer_grams, shares[NI].post_consumer_grams) == (200_000, 290_000)
    assert (shares[NI].share_bps, shares[NI].pre_consumer_bps, shares[NI].post_consumer_bps) == (612, 250, 362)
    assert shares[CO].share_bps == 1700
    c = claims.claim(claim_id)
    assert (c.status, c.claimant, c.custody_model, c.batteries_root) == (
        ClaimStatus.OPEN, world.cell_maker.address, CustodyModel.MASS_BALANCE, b"\x33" * 32)
    assert [(a.lot_id, a.grams, a.feedstock) for a in claims.allocations(claim_id)][1] == (
        ni_pre, 200_000, Feedstock.PRE_CONSUMER)
    certs = world.ledger.certificates
    assert certs.balance(li, world.cell_maker.address) == 5_000
    assert certs.balance(ni_post, world.cell_maker.address) == 10_000

    claims.attest(world.motie, claim_id)
    assert claims.claim(claim_id).status == ClaimStatus.ATTESTED
    c31, c36 = claims.compliance(claim_id, 2031), claims.compliance(claim_id, 2036)
    assert (c31.attested, c31.tainted, c31.meets) == (True, False, True)
    assert c36.meets is False and c36.minimum_bps[CO] == 2600 and c36.share_bps[CO] == 1700


def test_a_quantity_is_consumed_only_once(world: World) -> None:
    lot_id = world.lot_held_by_cell_maker(LI, 50_000)
    claims, certs = world.ledger.claims, world.ledger.certificates
    first = claims.open(world.cell_maker, request(world, [Allocation(lot_id, 50_000)]))
    reverts(lambda: claims.open(world.cell_maker, request(world, [Allocation(lot_id, 1)])),
            "CertificatesInsufficientBalance", lotId=lot_id, holder=world.cell_maker.address, balance=0, needed=1)
    # nor twice within one claim
    other = world.lot_held_by_cell_maker(LI, 50_000)
    reverts(lambda: claims.open(world.cell_maker, request(world, [Allocation(other, 30_000), Allocation(other, 30_000)])),
            "CertificatesInsufficientBalance", lotId=other, balance=20_000, needed=30_000)
    assert claims.claim_count() == first
    assert certs.balance(other, world.cell_maker.address) == 50_000


def test_only_quantities_held_before_the_claim_count(world: World) -> None:
    lot_id = world.certified_lot(LI, 50_000)  # still with the recycler
    claims = world.ledger.claims
    reverts(lambda: claims.open(world.cell_maker, request(world, [Allocation(lot_id, 10_000)])),
            "CertificatesInsufficientBalance", balance=0, needed=10_000)
    reverts(lambda: claims.open(world.cell_maker, request(world, [Allocation(77, 1)])), "CertificatesUnknownLot",
            lotId=77)


def test_claim_rules_are_atomic(world: World) -> None:
    li = world.lot_held_by_cell_maker(LI, 50_000)
    co = world.lot_held_by_cell_maker(CO, 50_000)
    claims, certs = world.ledger.claims, world.ledger.certificates
    too_much = request(world, [Allocation(li, 10_000), Allocation(co, 40_000)], {LI: 1_000_000, CO: 30_000})
    reverts(lambda: claims.open(world.cell_maker, too_much), "ClaimsAllocationExceedsContent", material=CO,
            allocatedGrams=40_000, contentGrams=30_000)
    missing_metal = request(world, [Allocation(co, 1)], {CO: 0})
    reverts(lambda: claims.open(world.cell_maker, missing_metal), "ClaimsMissingContent", material=CO)
    reverts(lambda: claims.open(world.cell_maker, request(world, [])), "ClaimsNoAllocations")
    backwards = replace(request(world, [Allocation(li, 1)]), period_start=world.now, period_end=world.now - 1)
    reverts(lambda: claims.open(world.cell_maker, backwards), "ClaimsInvalidPeriod")
    reverts(lambda: claims.open(world.cell_maker, request(world, [Allocation(li, 0)])), "CertificatesZeroQuantity")
    assert claims.claim_count() == 0
    assert (certs.balance(li, world.cell_maker.address), certs.balance(co, world.cell_maker.address)) == (50_000, 50_000)


def test_only_active_cell_makers_claim(world: World) -> None:
    lot_id = world.certified_lot(LI, 50_000)
    claims = world.ledger.claims
    reverts(lambda: claims.open(world.recycler, request(world, [Allocation(lot_id, 1)])), "RegistryMissingRole",
            account=world.recycler.address, anyOfRoles=BusinessRole.CELL_MAKER.bit)
    reverts(lambda: claims.open(world.stranger, request(world, [Allocation(lot_id, 1)])),
            "RegistryUnknownParticipant")
    world.ledger.registry.suspend(world.motie, world.cell_maker.address)
    reverts(lambda: claims.open(world.cell_maker, request(world, [Allocation(lot_id, 1)])),
            "RegistryParticipantNotActive", status=ParticipantStatus.SUSPENDED)


def test_only_motie_decides_once(world: World) -> None:
    lot_id = world.lot_held_by_cell_maker(LI, 50_000)
    claims = world.ledger.claims
    claim_id = claims.open(world.cell_maker, request(world, [Allocation(lot_id, 50_000)]))
    for wrong in (world.moe, world.cell_maker, world.deployer):
        reverts(partial(claims.attest, wrong, claim_id), "AccessControlUnauthorizedAccount", account=wrong.address)
        reverts(partial(claims.reject, wrong, claim_id), "AccessControlUnauthorizedAccount")
    claims.attest(world.motie, claim_id)
    reverts(lambda: claims.attest(world.motie, claim_id), "ClaimsInvalidStatus", claimId=claim_id,
            status=ClaimStatus.ATTESTED)
    reverts(lambda: claims.reject(world.motie, claim_id), "ClaimsInvalidStatus", status=ClaimStatus.ATTESTED)
    reverts(lambda: claims.attest(world.motie, 9), "ClaimsUnknownClaim", claimId=9)


def test_rejection_releases_the_allocations(world: World) -> None:
    li = world.lot_held_by_cell_maker(LI, 50_000)
    claims, certs = world.ledger.claims, world.ledger.certificates
    claim_id = claims.open(world.cell_maker, request(world, [Allocation(li, 30_000)]))
    assert certs.balance(li, world.cell_maker.address) == 20_000
    claims.reject(world.motie, claim_id, b"\x07" * 32)
    assert claims.claim(claim_id).status == ClaimStatus.REJECTED
    assert certs.balance(li, world.cell_maker.address) == 50_000
    reverts(lambda: claims.attest(world.motie, claim_id), "ClaimsInvalidStatus", status=ClaimStatus.REJECTED)
    again = claims.open(world.cell_maker, request(world, [Allocation(li, 50_000)]))
    assert again == claim_id + 1


def test_revocation_taints_every_claim_that_consumed_from_the_lot(world: World) -> None:
    lot_id = world.lot_held_by_cell_maker(CO, 100_000)
    clean = world.lot_held_by_cell_maker(LI, 100_000)
    claims, certs = world.ledger.claims, world.ledger.certificates
    attested = claims.open(world.cell_maker, request(world, [Allocation(lot_id, 60_000)], {CO: 300_000}))
    claims.attest(world.motie, attested)
    still_open = claims.open(world.cell_maker, request(world, [Allocation(clean, 10), Allocation(lot_id, 40_000)]))
    untouched = claims.open(world.cell_maker, request(world, [Allocation(clean, 10)]))
    before = claims.compliance(attested, 2031)
    assert (before.tainted, before.share_bps[CO]) == (False, 2_000)  # 20 % cobalt >= 16 %
    certs.revoke(world.moe, lot_id, b"\x0b" * 32)
    assert claims.is_tainted(attested) == (True, lot_id)
    assert claims.is_tainted(still_open) == (True, lot_id)
    assert claims.is_tainted(untouched) == (False, 0)
    after = claims.compliance(attested, 2031)
    assert (after.attested, after.tainted, after.meets) == (True, True, False)
    reverts(lambda: claims.attest(world.motie, still_open), "ClaimsTainted", claimId=still_open, lotId=lot_id)


def test_metals_absent_from_the_battery_are_exempt(world: World) -> None:
    li = world.lot_held_by_cell_maker(LI, 100_000)
    claims = world.ledger.claims
    lfp_model = world.ledger.passports.register_model(world.cell_maker, "KR:KCELL:LFP-100AH", ModelSpec(
        BatteryCategory.EV, frozenset({LI}), 70_000))  # LFP: its registered composition has no nickel, no cobalt
    lfp = request(world, [Allocation(li, 100_000)], {LI: 1_000_000}, lfp_model)
    claim_id = claims.open(world.cell_maker, lfp)
    claims.attest(world.motie, claim_id)
    c31, c36 = claims.compliance(claim_id, 2031), claims.compliance(claim_id, 2036)
    assert (c31.share_bps[LI], c31.meets, c36.meets) == (1000, True, False)
    reverts(lambda: claims.compliance(claim_id, 2040), "TargetsUnknownMilestone", year=2040)


def test_targets_are_governance_data(world: World) -> None:
    claims = world.ledger.claims
    assert claims.milestone_years() == [2031, 2036]
    reverts(lambda: claims.set_targets(world.motie, 2040, world.now, {LI: 2000}), "AccessControlUnauthorizedAccount",
            account=world.motie.address)
    reverts(lambda: world.govern(rule_changes.targets(world.ledger, 2040, world.now, {LI: 10_001})),
            "TargetsInvalidMilestone")
    reverts(lambda: world.govern(rule_changes.targets(world.ledger, 2040, 0, {LI: 100})), "TargetsInvalidMilestone")
    receipt = world.govern(rule_changes.targets(world.ledger, 2031, world.now, {LI: 9_000}))
    assert events_in(claims.targets, "TargetsSet", receipt)[0]["minimumBps"][LI] == 9_000
    assert claims.milestone_years() == [2031, 2036]

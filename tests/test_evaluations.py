"""Performance evaluation before removal: signed device reports, on-chain grading, every rejection."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account import Account

from chain_client.events import events_in
from chain_client import rule_changes
from chain_client.evaluations import Grade, sign_report
from chain_client.passports import battery_id
from chain_client.rules import DEFAULT_GRADING, FaultFlag, GradingPolicy
from chain_client.vocabulary import BatteryStatus, BusinessRole
from tests.conftest import DAY, MODEL, World
from tests.helpers import reverts

BAT_NAME = "KR:KCELL:EV:0000777"
BAT = battery_id(BAT_NAME)


@pytest.fixture
def in_service(world: World) -> World:
    p = world.ledger.passports
    p.register(world.cell_maker, BAT_NAME, MODEL)
    p.transfer(world.cell_maker, BAT, world.ev_maker.address)
    p.put_in_service(world.ev_maker, BAT, b"\x0e" * 32)
    return world


@pytest.mark.parametrize(
    ("soh", "faults", "grade"),
    [
        (8_000, 0, Grade.UPPER),
        (7_001, 0, Grade.UPPER),
        (7_000, 0, Grade.MIDDLE),  # strictly above 70 % is upper
        (5_001, 0, Grade.MIDDLE),
        (5_000, 0, Grade.LOWER),
        (9_500, int(FaultFlag["THERMAL_EVENT"]), Grade.LOWER),  # a safety fault forces recycling
        (9_500, int(FaultFlag["BMS_COMMUNICATION_LOSS"]), Grade.UPPER),  # not a forcing fault
    ],
)
def test_grade_is_computed_on_chain(in_service: World, soh: int, faults: int, grade: Grade) -> None:
    w, ev = in_service, in_service.ledger.evaluations
    signed = w.report(BAT, soh, faults)
    ev.submit_report(w.portal, signed)
    e = ev.evaluation(BAT)
    assert (e.grade, e.state_of_health_bps, e.policy_version) == (grade, soh, 1)
    assert (e.evaluator, e.device) == (w.evaluator.address, w.device.address)
    assert e.report_digest == ev.digest(signed.report)
    assert ev.grade_of(signed.report, 1) == grade  # anyone can recompute it


def test_reports_from_unknown_or_revoked_devices_are_refused(in_service: World) -> None:
    w, ev = in_service, in_service.ledger.evaluations
    rogue = Account.create()
    forged = sign_report(rogue, w.report(BAT).report, w.sender.chain_id, ev.address)
    reverts(lambda: ev.submit_report(w.portal, forged), "EvaluationUnknownDevice", device=rogue.address)
    reverts(lambda: ev.revoke_device(w.recycler, w.device.address), "EvaluationNotDeviceOwner",
            device=w.device.address, caller=w.recycler.address)
    ev.revoke_device(w.molit, w.device.address)
    assert ev.device_of(w.device.address) == (w.evaluator.address, True)
    reverts(lambda: ev.submit_report(w.portal, w.report(BAT)), "EvaluationUnknownDevice", device=w.device.address)
    assert ev.evaluation(BAT).grade == Grade.NONE


def test_evaluator_accreditation_is_checked(in_service: World) -> None:
    w, ev, reg = in_service, in_service.ledger.evaluations, in_service.ledger.registry
    reg.suspend(w.molit, w.evaluator.address)
    reverts(lambda: ev.submit_report(w.portal, w.report(BAT)), "RegistryParticipantNotActive",
            account=w.evaluator.address)
    reg.reinstate(w.molit, w.evaluator.address)
    reg.revoke_roles(w.molit, w.evaluator.address, [BusinessRole.EVALUATOR])
    reg.grant_roles(w.molit, w.evaluator.address, [BusinessRole.EV_MAKER])
    reverts(lambda: ev.submit_report(w.portal, w.report(BAT)), "RegistryMissingRole", account=w.evaluator.address)
    reverts(lambda: ev.register_device(w.recycler, Account.create()), "RegistryMissingRole")
    assert ev.evaluation(BAT).grade == Grade.NONE


def test_replays_nonces_and_deadlines(in_service: World) -> None:
    w, ev = in_service, in_service.ledger.evaluations
    signed = w.report(BAT)
    ev.submit_report(w.portal, signed)
    reverts(lambda: ev.submit_report(w.portal, signed), "EvaluationDuplicateReport", digest=ev.digest(signed.report))
    skipped = ev.submit_reports(w.portal, [signed])
    assert ev.recorded_in(skipped) == []  # the same report is recorded once
    reverts(lambda: ev.submit_report(w.portal, w.report(BAT, nonce=5)), "InvalidAccountNonce",
            account=w.device.address, currentNonce=1)
    stale = w.report(BAT, deadline=w.chain_time() - 1)
    reverts(lambda: ev.submit_report(w.portal, stale), "EvaluationExpiredReport", deadline=stale.report.deadline)
    assert ev.nonce(w.device.address) == 1


def test_impossible_values_and_tampering(in_service: World) -> None:
    w, ev = in_service, in_service.ledger.evaluations
    reverts(lambda: ev.submit_report(w.portal, w.report(BAT, soh_bps=10_001)), "EvaluationImpossibleValue",
            field="stateOfHealthBps", value=10_001)
    future = w.chain_time() + 3_000
    reverts(lambda: ev.submit_report(w.portal, w.report(BAT, measured_at=future)), "EvaluationImpossibleValue",
            field="measuredAt", value=future)
    signed = w.report(BAT, soh_bps=4_000)
    tampered = replace(signed, report=replace(signed.report, state_of_health_bps=9_000))
    error = reverts(lambda: ev.submit_report(w.portal, tampered), "EvaluationUnknownDevice")
    assert error.args_by_name["device"] != w.device.address
    reverts(lambda: ev.submit_report(w.portal, w.report(battery_id("KR:NOT:IN:SERVICE"))),
            "EvaluationBatteryNotInService")
    assert ev.evaluation(BAT).grade == Grade.NONE and ev.nonce(w.device.address) == 0


def test_a_batch_is_all_or_nothing_and_idempotent(in_service: World) -> None:
    w, ev, p = in_service, in_service.ledger.evaluations, in_service.ledger.passports
    names = [f"KR:KCELL:EV:{i:07d}" for i in range(3)]
    others = [battery_id(n) for n in names]
    for n, b in zip(names, others, strict=True):
        p.register(w.cell_maker, n, MODEL)
        p.transfer(w.cell_maker, b, w.ev_maker.address)
        p.put_in_service(w.ev_maker, b, b"\x0e" * 32)
    reports = [w.report(b, nonce=i) for i, b in enumerate([BAT, *others])]
    bad = [*reports[:2], w.report(others[1], soh_bps=20_000, nonce=2)]
    reverts(lambda: ev.submit_reports(w.portal, bad), "EvaluationImpossibleValue")
    assert all(ev.evaluation(b).grade == Grade.NONE for b in [BAT, *others])
    reverts(lambda: w.sender.submit(w.portal, ev.contract.functions.submitReports(
        [reports[0].report.as_tuple()], [])), "EvaluationLengthMismatch", reports=1, signatures=0)
    first = ev.submit_reports(w.portal, reports[:2])
    assert len(ev.recorded_in(first)) == 2
    again = ev.submit_reports(w.portal, reports)  # a retried batch: the first two are skipped
    assert len(ev.recorded_in(again)) == 2
    assert all(ev.evaluation(b).grade == Grade.UPPER for b in [BAT, *others])


def test_a_superseded_report_is_never_recorded_again(in_service: World) -> None:
    """Only the latest report of a battery keeps its digest on chain: an older one is refused by its used nonce
    (alone) or skipped (in a retried batch), and a report reusing a used nonce with other values never counts."""
    w, ev = in_service, in_service.ledger.evaluations
    now = w.chain_time()
    first, second = w.report(BAT, 8_000, nonce=0, measured_at=now - 120), w.report(BAT, 6_000, nonce=1,
                                                                                     measured_at=now - 60)
    assert len(ev.recorded_in(ev.submit_reports(w.portal, [first, second]))) == 2
    reverts(lambda: ev.submit_report(w.portal, first), "InvalidAccountNonce", account=w.device.address,
            currentNonce=2)
    reverts(lambda: ev.submit_report(w.portal, second), "EvaluationDuplicateReport", digest=ev.digest(second.report))
    forged_reuse = w.report(BAT, 9_900, nonce=1)  # the device signs other values under a used nonce
    reverts(lambda: ev.submit_report(w.portal, forged_reuse), "InvalidAccountNonce", account=w.device.address,
            currentNonce=2)
    assert ev.recorded_in(ev.submit_reports(w.portal, [first, second, forged_reuse])) == []  # a retried batch
    e = ev.evaluation(BAT)
    assert (e.grade, e.state_of_health_bps, e.report_digest, ev.nonce(w.device.address)) == (
        Grade.MIDDLE, 6_000, ev.digest(second.report), 2)
    assert w.ledger.passports.status_of(BAT) == BatteryStatus.IN_SERVICE


def test_removal_needs_a_valid_evaluation(in_service: World) -> None:
    w, p = in_service, in_service.ledger.passports
    reverts(lambda: p.mark_removed(w.ev_maker, BAT), "EvaluationRequired", batteryId=BAT)
    w.evaluate(BAT)
    w.backend.advance_time(DEFAULT_GRADING.validity_seconds + DAY)
    reverts(lambda: p.mark_removed(w.ev_maker, BAT), "EvaluationRequired", batteryId=BAT)
    assert p.battery(BAT).status == BatteryStatus.IN_SERVICE
    w.evaluate(BAT, 6_000)
    p.mark_removed(w.ev_maker, BAT)
    assert p.battery(BAT).status == BatteryStatus.REMOVED


def test_the_committee_versions_the_grading_policy(in_service: World) -> None:
    w, ev = in_service, in_service.ledger.evaluations
    stricter = GradingPolicy(upper_above_soh_bps=8_500, middle_above_soh_bps=6_000)
    for alone in (w.moe, w.molit):
        reverts(lambda: ev.set_policy(alone, stricter), "AccessControlUnauthorizedAccount", account=alone.address)
    for bad in (GradingPolicy(5_000, 6_000), GradingPolicy(validity_seconds=0), GradingPolicy(upper_paths=1 << 7)):
        reverts(lambda: w.govern(rule_changes.grading_policy(w.ledger, bad)), "EvaluationInvalidPolicy")
    receipt = w.govern(rule_changes.grading_policy(w.ledger, stricter))
    assert events_in(ev.contract, "GradingPolicySet", receipt)[0]["version"] == 2
    ev.submit_report(w.portal, w.report(BAT, 8_000))
    e = ev.evaluation(BAT)
    assert (e.grade, e.policy_version) == (Grade.MIDDLE, 2)


def test_device_registration_rules(in_service: World) -> None:
    w, ev = in_service, in_service.ledger.evaluations
    reverts(lambda: ev.register_device(w.evaluator, w.device), "EvaluationDeviceExists", device=w.device.address)
    reverts(lambda: ev.revoke_device(w.evaluator, Account.create().address), "EvaluationUnknownDevice")

"""The policy committee: rule changes pass a 2-of-3 Safe of the ministries and the timelock's delay; the deployer
and any single ministry are powerless on their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from chain_client import rule_changes
from chain_client.governance import GovernanceError, OperationState, Proposal, RuleChange
from chain_client.rules import DEFAULT_INSPECTION, GradingPolicy, InspectionPolicy
from chain_client.suite import CANCELLER_ROLE, EXECUTOR_ROLE, PROPOSER_ROLE
from chain_client.vocabulary import MOE_ROLE, BatteryCategory, BusinessRole, CustodyModel, Material
from tests.conftest import COMMITTEE_DELAY, DAY, World
from tests.helpers import reverts

ZERO = "0x" + "00" * 20
GOVERNANCE = b"\x00" * 32


def test_the_committee_is_wired_as_deployed(world: World) -> None:
    c = world.ledger.committee
    members = [world.moe.address, world.motie.address, world.molit.address]
    assert sorted(c.members()) == sorted(members)
    assert (c.threshold(), c.delay()) == (2, COMMITTEE_DELAY)
    timelock = world.deployment.governance
    assert world.ledger.registry.governance_admin() == timelock
    assert c.timelock.functions.hasRole(PROPOSER_ROLE, c.safe.address).call()
    assert c.timelock.functions.hasRole(CANCELLER_ROLE, c.safe.address).call()
    assert c.timelock.functions.hasRole(EXECUTOR_ROLE, ZERO).call()  # anyone executes a ready operation
    assert c.timelock.functions.hasRole(GOVERNANCE, timelock).call()  # the timelock administers itself
    assert world.ledger.registry.contract.functions.defaultAdminDelay().call() == COMMITTEE_DELAY
    assert world.deployment.committee["safe"] == c.safe.address


def _every_governed_act(world: World) -> list[tuple[str, Callable[[Any], Any]]]:
    """(name, act by ``caller``) for every governance act of the suite, with valid arguments."""
    lg, f = world.ledger, world.sender.submit
    reg = lg.registry.contract.functions
    return [
        ("grantRole", lambda a: f(a, reg.grantRole(MOE_ROLE, a.address))),
        ("setRoleAuthority", lambda a: f(a, reg.setRoleAuthority(0, MOE_ROLE))),
        ("beginDefaultAdminTransfer", lambda a: f(a, reg.beginDefaultAdminTransfer(a.address))),
        ("changeDefaultAdminDelay", lambda a: f(a, reg.changeDefaultAdminDelay(0))),
        ("setConsumer", lambda a: f(a, lg.certificates.contract.functions.setConsumer(a.address, True))),
        ("setSafetyContracts", lambda a: f(a, lg.passports.contract.functions.setSafetyContracts(
            a.address, a.address))),
        ("setTargets", lambda a: lg.claims.set_targets(a, 2031, world.now, {Material.LITHIUM: 0})),
        ("setGradingPolicy", lambda a: lg.evaluations.set_policy(a, GradingPolicy(9_000, 8_000))),
        ("setMaxStateOfCharge", lambda a: lg.logistics.set_max_soc(a, 10_000)),
        ("setInspectionPolicy", lambda a: lg.inspections.set_policy(a, InspectionPolicy(DAY, DAY))),
        ("setScope", lambda a: f(a, lg.claims.targets.functions.setScope(int(BatteryCategory.PORTABLE), 2031))),
        ("setIndustrialThreshold", lambda a: f(a, lg.claims.targets.functions.setIndustrialThreshold(0))),
        ("setCustodyModelCounts", lambda a: f(a, lg.claims.targets.functions.setCustodyModelCounts(
            int(CustodyModel.BOOK_AND_CLAIM), True))),
    ]


def test_the_deployer_keeps_no_power(world: World) -> None:
    d = world.deployer
    for name, act in _every_governed_act(world):
        error = reverts(lambda: act(d), "AccessControlUnauthorizedAccount", account=d.address)
        assert error.args_by_name["neededRole"] == GOVERNANCE, name
    c = world.ledger.committee
    for role in ("PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE", "DEFAULT_ADMIN_ROLE"):
        assert not c.timelock.functions.hasRole(
            GOVERNANCE if role == "DEFAULT_ADMIN_ROLE" else Web3.keccak(text=role), d.address).call(), role
    tl = c.timelock.functions
    reverts(lambda: world.sender.submit(d, tl.schedule(ZERO, 0, b"", GOVERNANCE, GOVERNANCE, COMMITTEE_DELAY)),
            "AccessControlUnauthorizedAccount", account=d.address, neededRole=PROPOSER_ROLE)
    reverts(lambda: world.sender.submit(d, tl.updateDelay(0)), "TimelockUnauthorizedCaller", caller=d.address)
    assert not c.safe.functions.isOwner(d.address).call()
    # nor any authority act
    reg = world.ledger.registry
    newcomer = Account.create().address
    reverts(lambda: reg.register(d, newcomer, [BusinessRole.RECYCLER]), "RegistryUnauthorizedAuthority",
            caller=d.address)
    reverts(lambda: reg.suspend(d, world.recycler.address), "RegistryUnauthorizedAuthority", caller=d.address)
    lot = world.ledger.certificates.apply(world.recycler, world.application())
    reverts(lambda: world.ledger.certificates.certify(d, lot), "AccessControlUnauthorizedAccount", account=d.address)
    assert world.ledger.logistics.max_soc_bps() == 3_000


def test_no_single_ministry_changes_a_rule(world: World) -> None:
    for ministry in (world.moe, world.motie, world.molit):
        for name, act in _every_governed_act(world):
            error = reverts(lambda: act(ministry), "AccessControlUnauthorizedAccount", account=ministry.address)
            assert error.args_by_name["neededRole"] == GOVERNANCE, name
        reverts(lambda: world.sender.submit(ministry, world.ledger.committee.timelock.functions.schedule(
            ZERO, 0, b"", GOVERNANCE, GOVERNANCE, COMMITTEE_DELAY)), "AccessControlUnauthorizedAccount",
            neededRole=PROPOSER_ROLE)
    assert world.ledger.logistics.max_soc_bps() == 3_000
    assert world.ledger.evaluations.policy_count() == 1


def test_a_rule_change_passes_the_committee_step_by_step(world: World) -> None:
    c, lg = world.ledger.committee, world.ledger.logistics
    change = rule_changes.soc_limit(world.ledger, 2_500)
    proposal = c.propose(world.moe, change)
    assert c.valid_signers(proposal) == [world.moe.address]
    with pytest.raises(GovernanceError, match="1 of 2 signatures"):
        c.schedule(world.moe, proposal)
    with pytest.raises(GovernanceError, match="not a member"):
        c.approve(world.stranger, proposal)
    with pytest.raises(GovernanceError, match="already signed"):
        c.approve(world.moe, proposal)
    with pytest.raises(GovernanceError, match="not scheduled yet"):
        c.execute(world.stranger, proposal)
    assert c.state(proposal.operation_id) == OperationState.UNSET
    c.approve(world.motie, proposal)
    c.schedule(world.stranger, proposal)  # anyone may submit the signed Safe transaction
    assert c.state(proposal.operation_id) == OperationState.WAITING
    assert [op.operation_id for op in c.scheduled(world.deployment.block_number)
            if op.state == OperationState.WAITING] == [proposal.operation_id]
    with pytest.raises(GovernanceError, match="delay runs until"):
        c.execute(world.stranger, proposal)
    t = proposal.change
    reverts(lambda: world.sender.submit(world.stranger, c.timelock.functions.execute(
        t.target, 0, t.data, proposal.predecessor, proposal.salt)), "TimelockUnexpectedOperationState")
    assert lg.max_soc_bps() == 3_000
    world.backend.advance_time(COMMITTEE_DELAY + 1)
    c.execute(world.stranger, proposal)
    assert lg.max_soc_bps() == 2_500
    assert c.state(proposal.operation_id) == OperationState.DONE
    with pytest.raises(GovernanceError, match="already executed"):
        c.execute(world.stranger, proposal)


def test_the_safe_refuses_signatures_of_non_members(world: World) -> None:
    c = world.ledger.committee
    proposal = c.propose(world.moe, rule_changes.soc_limit(world.ledger, 2_000))
    forged = world.stranger.unsafe_sign_hash(c.safe_tx_hash(proposal)).signature
    proposal.signatures[world.motie.address] = bytes(forged)  # a stranger's signature filed under MOTIE
    assert c.valid_signers(proposal) == [world.moe.address]
    # sent to the Safe anyway, sorted by signer: the Safe recovers the stranger and refuses (GS026: not an owner)
    sigs = sorted([(world.moe.address, proposal.signatures[world.moe.address]), (world.stranger.address, forged)],
                  key=lambda x: int(x[0], 16))
    data = c.schedule_call(proposal)._encode_transaction_data()
    reverts(lambda: world.sender.submit(world.moe, c.safe.functions.execTransaction(
        c.timelock.address, 0, data, 0, 0, 0, 0, ZERO, ZERO, b"".join(bytes(s) for _, s in sigs)), gas=500_000),
        "Error", message="GS026")
    assert c.state(proposal.operation_id) == OperationState.UNSET
    assert c.safe_nonce() == proposal.safe_nonce


def test_a_stale_proposal_must_be_made_again(world: World) -> None:
    c = world.ledger.committee
    first = c.propose(world.moe, rule_changes.soc_limit(world.ledger, 2_000))
    second = c.propose(world.molit, rule_changes.soc_limit(world.ledger, 2_200))
    c.approve(world.motie, first)
    c.approve(world.motie, second)
    c.schedule(world.moe, first)
    with pytest.raises(GovernanceError, match="Safe nonce"):
        c.schedule(world.moe, second)
    assert c.state(second.operation_id) == OperationState.UNSET


def test_a_proposal_survives_its_json_file(world: World, tmp_path: Any) -> None:
    c = world.ledger.committee
    path = c.propose(world.moe, rule_changes.soc_limit(world.ledger, 2_000)).save(tmp_path)
    proposal = Proposal.load(path)
    c.approve(world.molit, proposal)
    assert c.valid_signers(proposal) == sorted([world.moe.address, world.molit.address], key=lambda a: int(a, 16))
    path.write_text("{}")
    with pytest.raises(GovernanceError, match="not a committee proposal"):
        Proposal.load(path)


def test_the_committee_sets_every_rule(world: World) -> None:
    lg = world.ledger
    world.govern(rule_changes.grading_policy(lg, GradingPolicy(8_000, 6_000)))
    assert lg.evaluations.policy_count() == 2
    world.govern(rule_changes.targets(lg, 2040, world.now, {Material.LITHIUM: 2_000}))
    assert lg.claims.milestone_years() == [2031, 2036, 2040]
    world.govern(rule_changes.consumer(lg, world.stranger.address))
    world.govern(rule_changes.safety_contracts(lg, lg.evaluations.address, lg.inspections.address))
    world.govern(rule_changes.inspection_policy(lg, InspectionPolicy(30 * DAY, 2 * DAY)))
    assert lg.inspections.policy() == InspectionPolicy(30 * DAY, 2 * DAY)
    world.govern(rule_changes.scope(lg, BatteryCategory.LMT, 2031))
    world.govern(rule_changes.industrial_threshold(lg, 5_000))
    world.govern(rule_changes.custody_model_counts(lg, CustodyModel.BOOK_AND_CLAIM, True))
    world.govern(rule_changes.revoke_authority(lg, "molit", world.molit.address))
    assert not lg.registry.has_authority("molit", world.molit.address)


@pytest.mark.parametrize("change, error", [
    (lambda lg: rule_changes.consumer(lg, ZERO), "CertificatesZeroAddress"),
    (lambda lg: rule_changes.safety_contracts(lg, ZERO, lg.inspections.address), "PassportZeroAddress"),
    (lambda lg: rule_changes.safety_contracts(lg, lg.evaluations.address, ZERO), "PassportZeroAddress"),
    (lambda lg: rule_changes.inspection_policy(lg, InspectionPolicy(0, 0)), "InspectionInvalidPolicy"),
    (lambda lg: rule_changes.soc_limit(lg, 0), "TransportInvalidPolicy"),
    (lambda lg: rule_changes.grading_policy(lg, GradingPolicy(5_000, 6_000)), "EvaluationInvalidPolicy"),
])
def test_a_bad_rule_change_fails_and_changes_nothing(world: World, change: Callable[[Any], RuleChange],
                                                     error: str) -> None:
    lg = world.ledger
    reverts(lambda: world.govern(change(lg)), error)
    assert lg.logistics.max_soc_bps() == 3_000
    assert lg.evaluations.policy_count() == 1
    assert lg.passports.contract.functions.evaluations().call() == lg.evaluations.address
    assert lg.passports.contract.functions.inspections().call() == lg.inspections.address
    assert lg.inspections.policy() == DEFAULT_INSPECTION

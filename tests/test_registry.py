"""Business registration: every authority boundary and status rule."""

from __future__ import annotations

from eth_account import Account

from chain_client import rule_changes
from chain_client.governance import RuleChange
from chain_client.passports import ModelSpec
from chain_client.vocabulary import (
    MOE_ROLE,
    MOLIT_ROLE,
    BatteryCategory,
    BusinessRole,
    ParticipantStatus,
    identifier,
)
from tests.conftest import COMMITTEE_DELAY, DAY, FACILITY, FACILITY2, MODEL_METALS, World
from tests.helpers import reverts


def test_authority_registers_only_its_own_roles(world: World) -> None:
    newcomer = Account.create().address
    reg = world.ledger.registry
    reverts(lambda: reg.register(world.moe, newcomer, [BusinessRole.CELL_MAKER]),
            "RegistryUnauthorizedAuthority", caller=world.moe.address, role=BusinessRole.CELL_MAKER)
    reverts(lambda: reg.register(world.motie, newcomer, [BusinessRole.CELL_MAKER, BusinessRole.RECYCLER]),
            "RegistryUnauthorizedAuthority", caller=world.motie.address, role=BusinessRole.RECYCLER)
    reverts(lambda: reg.register(world.recycler, newcomer, [BusinessRole.RECYCLER]),
            "RegistryUnauthorizedAuthority", caller=world.recycler.address, role=BusinessRole.RECYCLER)
    assert reg.participant(newcomer).status == ParticipantStatus.NONE
    reg.register(world.molit, newcomer, [BusinessRole.EVALUATOR, BusinessRole.EV_MAKER])
    p = reg.participant(newcomer)
    assert p.status == ParticipantStatus.ACTIVE
    assert p.roles == [BusinessRole.EV_MAKER, BusinessRole.EVALUATOR]


def test_bad_registrations_are_refused(world: World) -> None:
    reg = world.ledger.registry
    newcomer = Account.create().address
    reverts(lambda: reg.register(world.moe, world.recycler.address, [BusinessRole.RECYCLER]),
            "RegistryParticipantExists", account=world.recycler.address)
    reverts(lambda: reg.register(world.moe, newcomer, []), "RegistryInvalidRoles", roles=0)
    reverts(lambda: world.sender.submit(world.moe, reg.contract.functions.registerParticipant(
        newcomer, 1 << 11, b"\0" * 32)), "RegistryInvalidRoles", roles=1 << 11)
    reverts(lambda: reg.register(world.moe, "0x" + "00" * 20, [BusinessRole.RECYCLER]), "RegistryZeroAddress")
    assert reg.participant(newcomer).status == ParticipantStatus.NONE


def test_suspension_blocks_acts_until_reinstated(world: World) -> None:
    reg, certs = world.ledger.registry, world.ledger.certificates
    reverts(lambda: reg.suspend(world.motie, world.recycler.address), "RegistryUnauthorizedAuthority",
            caller=world.motie.address)
    reg.suspend(world.moe, world.recycler.address, b"\x01" * 32)
    p = reg.participant(world.recycler.address)
    assert (p.status, p.status_reason) == (ParticipantStatus.SUSPENDED, b"\x01" * 32)
    reverts(lambda: certs.apply(world.recycler, world.application()), "RegistryParticipantNotActive",
            account=world.recycler.address, status=ParticipantStatus.SUSPENDED)
    reverts(lambda: reg.suspend(world.moe, world.recycler.address), "RegistryInvalidStatusTransition",
            **{"from": ParticipantStatus.SUSPENDED, "to": ParticipantStatus.SUSPENDED})
    reg.reinstate(world.moe, world.recycler.address)
    assert certs.apply(world.recycler, world.application()) == 1


def test_revocation_is_final(world: World) -> None:
    reg = world.ledger.registry
    reg.revoke(world.motie, world.cell_maker.address, b"\x02" * 32)
    assert reg.participant(world.cell_maker.address).status == ParticipantStatus.REVOKED
    reverts(lambda: reg.reinstate(world.motie, world.cell_maker.address), "RegistryInvalidStatusTransition",
            account=world.cell_maker.address, to=ParticipantStatus.ACTIVE)
    reverts(lambda: reg.revoke(world.motie, world.cell_maker.address), "RegistryInvalidStatusTransition")
    reverts(lambda: reg.grant_roles(world.motie, world.cell_maker.address, [BusinessRole.MATERIAL_PROCESSOR]),
            "RegistryParticipantNotActive", status=ParticipantStatus.REVOKED)
    stranger = world.stranger.address
    reverts(lambda: reg.suspend(world.moe, stranger), "RegistryUnknownParticipant", account=stranger)


def test_roles_can_be_granted_and_removed_by_their_authority(world: World) -> None:
    reg = world.ledger.registry
    reverts(lambda: reg.grant_roles(world.moe, world.processor.address, [BusinessRole.CELL_MAKER]),
            "RegistryUnauthorizedAuthority", role=BusinessRole.CELL_MAKER)
    reg.grant_roles(world.motie, world.processor.address, [BusinessRole.CELL_MAKER])
    assert reg.is_active(world.processor.address, BusinessRole.CELL_MAKER)
    reg.revoke_roles(world.motie, world.processor.address, [BusinessRole.CELL_MAKER])
    assert not reg.is_active(world.processor.address, BusinessRole.CELL_MAKER)
    assert reg.is_active(world.processor.address, BusinessRole.MATERIAL_PROCESSOR)


def test_only_the_committee_grants_authorities_and_maps_roles(world: World) -> None:
    reg = world.ledger.registry
    for caller in (world.moe, world.deployer):
        reverts(lambda: world.sender.submit(caller, reg.contract.functions.grantRole(MOE_ROLE, world.stranger.address)),
                "AccessControlUnauthorizedAccount", account=caller.address)
        reverts(lambda: world.sender.submit(caller, reg.contract.functions.setRoleAuthority(
            int(BusinessRole.CELL_MAKER), MOE_ROLE)), "AccessControlUnauthorizedAccount", account=caller.address)
    assert not reg.has_authority("moe", world.stranger.address)
    world.govern(rule_changes.role_authority(world.ledger, BusinessRole.CELL_MAKER, "moe"))
    newcomer = Account.create().address
    reg.register(world.moe, newcomer, [BusinessRole.CELL_MAKER])
    assert reg.is_active(newcomer, BusinessRole.CELL_MAKER)
    ministry = Account.create().address
    world.govern(rule_changes.grant_authority(world.ledger, "molit", ministry))
    assert reg.has_authority("molit", ministry)


def test_governance_never_administers_a_business_role(world: World) -> None:
    reg = world.ledger.registry
    reverts(lambda: world.govern(rule_changes.role_authority(world.ledger, BusinessRole.RECYCLER, "governance")),
            "RegistryInvalidAuthorityRole", authorityRole=b"\0" * 32)
    assert reg.contract.functions.roleAuthority(int(BusinessRole.RECYCLER)).call() == MOE_ROLE


SPEC = ModelSpec(BatteryCategory.EV, MODEL_METALS, 60_000)


def _dual(world: World) -> str:
    """recycler2 (MoE) also becomes a cell maker (MOTIE), with the issuer prefix KR:DUAL."""
    world.ledger.registry.grant_roles(world.motie, world.recycler2.address, [BusinessRole.CELL_MAKER])
    world.ledger.passports.assign_prefix(world.motie, "KR:DUAL", world.recycler2.address)
    return str(world.recycler2.address)


def test_each_authority_sets_the_status_of_its_own_roles_only(world: World) -> None:
    reg = world.ledger.registry
    dual = _dual(world)
    reg.suspend(world.moe, dual, b"\x01" * 32)
    assert reg.role_status(dual, BusinessRole.RECYCLER) == ParticipantStatus.SUSPENDED
    assert reg.role_status(dual, BusinessRole.CELL_MAKER) == ParticipantStatus.ACTIVE
    assert reg.participant(dual).status == ParticipantStatus.ACTIVE  # still active in a role
    # checkActive answers per role: no recycler act, cell maker acts still go through
    reverts(lambda: world.ledger.certificates.apply(world.recycler2, world.application(facility=FACILITY2)),
            "RegistryParticipantNotActive", account=dual, status=ParticipantStatus.SUSPENDED)
    assert not reg.is_active(dual, BusinessRole.RECYCLER)
    assert reg.is_active(dual, BusinessRole.CELL_MAKER)
    assert reg.is_active(dual, [BusinessRole.RECYCLER, BusinessRole.CELL_MAKER])
    world.ledger.passports.register_model(world.recycler2, "KR:DUAL:MODEL-1", SPEC)
    # MOTIE cannot lift MoE's suspension: its own roles are active, so there is nothing for it to reinstate
    before = reg.participant(dual)
    reverts(lambda: reg.reinstate(world.motie, dual), "RegistryInvalidStatusTransition", account=dual,
            **{"from": ParticipantStatus.ACTIVE, "to": ParticipantStatus.ACTIVE})
    # MOTIE revokes: only the cell maker role goes
    reg.revoke(world.motie, dual, b"\x02" * 32)
    after = reg.participant(dual)
    assert after.revoked_roles == [BusinessRole.CELL_MAKER] and after.suspended_roles == [BusinessRole.RECYCLER]
    assert after.status == ParticipantStatus.SUSPENDED
    assert before.suspended_roles == after.suspended_roles
    reverts(lambda: reg.reinstate(world.motie, dual), "RegistryInvalidStatusTransition",
            **{"from": ParticipantStatus.REVOKED, "to": ParticipantStatus.ACTIVE})
    reverts(lambda: reg.grant_roles(world.motie, dual, [BusinessRole.CELL_MAKER]), "RegistryParticipantNotActive",
            account=dual, status=ParticipantStatus.REVOKED)
    reverts(lambda: world.ledger.passports.register_model(world.recycler2, "KR:DUAL:MODEL-2", SPEC),
            "RegistryParticipantNotActive", account=dual, status=ParticipantStatus.REVOKED)
    # MoE lifts its own suspension: the recycler acts again, the cell maker stays revoked
    reg.reinstate(world.moe, dual)
    assert reg.role_status(dual, BusinessRole.RECYCLER) == ParticipantStatus.ACTIVE
    assert reg.role_status(dual, BusinessRole.CELL_MAKER) == ParticipantStatus.REVOKED
    assert world.ledger.certificates.apply(world.recycler2, world.application(facility=FACILITY2)) == 1


def test_a_suspension_is_not_lifted_by_removing_and_granting_the_role_again(world: World) -> None:
    reg = world.ledger.registry
    dual = _dual(world)
    reg.suspend(world.motie, dual)
    reg.revoke_roles(world.motie, dual, [BusinessRole.CELL_MAKER])
    reg.grant_roles(world.motie, dual, [BusinessRole.CELL_MAKER])
    assert reg.role_status(dual, BusinessRole.CELL_MAKER) == ParticipantStatus.SUSPENDED
    reverts(lambda: reg.suspend(world.motie, dual), "RegistryInvalidStatusTransition",
            **{"from": ParticipantStatus.SUSPENDED, "to": ParticipantStatus.SUSPENDED})
    reverts(lambda: reg.suspend(world.molit, dual), "RegistryUnauthorizedAuthority", caller=world.molit.address,
            role=BusinessRole.RECYCLER)


def test_a_business_revoked_by_every_authority_is_revoked(world: World) -> None:
    reg = world.ledger.registry
    dual = _dual(world)
    reg.revoke(world.moe, dual)
    assert reg.participant(dual).status == ParticipantStatus.ACTIVE
    reverts(lambda: reg.revoke(world.moe, dual), "RegistryInvalidStatusTransition",
            **{"from": ParticipantStatus.REVOKED, "to": ParticipantStatus.REVOKED})
    reg.revoke(world.motie, dual)
    assert reg.participant(dual).status == ParticipantStatus.REVOKED
    reverts(lambda: reg.grant_roles(world.motie, dual, [BusinessRole.MATERIAL_PROCESSOR]),
            "RegistryParticipantNotActive", status=ParticipantStatus.REVOKED)


def test_authorities_are_never_businesses(world: World) -> None:
    reg = world.ledger.registry
    governance = world.deployment.governance
    for authority in (world.moe.address, world.motie.address, world.molit.address, governance):
        reverts(lambda: reg.register(world.moe, authority, [BusinessRole.RECYCLER]),
                "RegistryAuthorityCannotBeBusiness", account=authority)
        assert reg.participant(authority).status == ParticipantStatus.NONE
    # a registered business cannot become an authority, governance cannot become a ministry
    check = world.govern  # the committee's decision fails on-chain, at the latest when the timelock executes it
    reverts(lambda: check(rule_changes.grant_authority(world.ledger, "moe", world.recycler.address)),
            "RegistryBusinessCannotBeAuthority", account=world.recycler.address, role=MOE_ROLE)
    reverts(lambda: check(rule_changes.grant_authority(world.ledger, "molit", governance)),
            "RegistryGovernanceCannotBeMinistry", account=governance, role=MOLIT_ROLE)
    assert not reg.has_authority("moe", world.recycler.address)
    assert not reg.has_authority("molit", governance)


def test_a_ministry_cannot_become_governance(world: World) -> None:
    """The default admin moves only by the two-step, delayed transfer, and never to a ministry."""
    reg = world.ledger.registry
    reverts(lambda: world.govern(RuleChange.of(reg.contract, "grantRole", [b"\0" * 32, world.moe.address], "")),
            "AccessControlEnforcedDefaultAdminRules")
    world.govern(RuleChange.of(reg.contract, "beginDefaultAdminTransfer", [world.moe.address], "to MoE"))
    reverts(lambda: world.sender.submit(world.moe, reg.contract.functions.acceptDefaultAdminTransfer()),
            "AccessControlEnforcedDefaultAdminDelay")
    world.backend.advance_time(COMMITTEE_DELAY + 1)
    reverts(lambda: world.sender.submit(world.moe, reg.contract.functions.acceptDefaultAdminTransfer()),
            "RegistryGovernanceCannotBeMinistry", account=world.moe.address, role=b"\0" * 32)
    assert reg.governance_admin() == world.deployment.governance


def test_facility_rules(world: World) -> None:
    reg = world.ledger.registry
    fid = identifier("NEW-PLANT")
    now = world.now
    reverts(lambda: reg.register_facility(world.moe, FACILITY, world.recycler.address, now, now + DAY),
            "RegistryFacilityExists")
    reverts(lambda: reg.register_facility(world.moe, fid, world.recycler.address, now, now),
            "RegistryInvalidValidity", validFrom=now, validUntil=now)
    reverts(lambda: reg.register_facility(world.motie, fid, world.recycler.address, now, now + DAY),
            "RegistryUnauthorizedAuthority", caller=world.motie.address, role=BusinessRole.RECYCLER)
    reverts(lambda: reg.register_facility(world.moe, fid, world.transporter.address, now, now + DAY),
            "RegistryMissingRole", account=world.transporter.address, anyOfRoles=1)
    reverts(lambda: reg.register_facility(world.moe, fid, world.stranger.address, now, now + DAY),
            "RegistryUnknownParticipant", account=world.stranger.address)
    assert reg.facility(fid).operator == "0x" + "00" * 20
    reg.register_facility(world.moe, fid, world.recycler.address, now, now + DAY)
    reg.renew_facility(world.moe, fid, now + 10 * DAY)
    assert reg.facility(fid).valid_until == now + 10 * DAY
    reg.revoke_facility(world.moe, fid)
    assert reg.facility(fid).revoked
    reverts(lambda: reg.renew_facility(world.moe, fid, now + 20 * DAY), "RegistryFacilityNotValid")
    reverts(lambda: reg.revoke_facility(world.moe, identifier("NOPE")), "RegistryUnknownFacility")



def test_only_the_recyclers_authority_manages_facilities(world: World) -> None:
    """An operator that is also a cell maker (MOTIE) does not let MOTIE touch its recycling facility."""
    reg = world.ledger.registry
    dual = _dual(world)
    fid, now = identifier("DUAL-PLANT"), world.now
    reverts(lambda: reg.register_facility(world.motie, fid, dual, now, now + DAY), "RegistryUnauthorizedAuthority",
            caller=world.motie.address, role=BusinessRole.RECYCLER)
    reverts(lambda: reg.renew_facility(world.motie, FACILITY2, now + 900 * DAY), "RegistryUnauthorizedAuthority",
            caller=world.motie.address, role=BusinessRole.RECYCLER)
    reverts(lambda: reg.revoke_facility(world.motie, FACILITY2), "RegistryUnauthorizedAuthority",
            caller=world.motie.address, role=BusinessRole.RECYCLER)
    f = reg.facility(FACILITY2)
    assert (f.valid_until, f.revoked) == (now + 365 * DAY, False)
    assert reg.facility(fid).operator == "0x" + "00" * 20
    # a cell maker that is not a recycler cannot operate a recycling facility
    reverts(lambda: reg.register_facility(world.moe, fid, world.cell_maker.address, now, now + DAY),
            "RegistryMissingRole", account=world.cell_maker.address)
    reg.register_facility(world.moe, fid, dual, now, now + DAY)
    reg.revoke_facility(world.moe, fid)

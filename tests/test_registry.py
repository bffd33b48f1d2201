"""Business registration: every authority boundary and status rule."""

from __future__ import annotations

from eth_account import Account

from chain_client.vocabulary import MOE_ROLE, BusinessRole, ParticipantStatus, identifier
from tests.conftest import DAY, FACILITY, World
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


def test_only_governance_grants_authorities_and_maps_roles(world: World) -> None:
    reg = world.ledger.registry
    reverts(lambda: reg.grant_authority(world.moe, "moe", world.stranger.address),
            "AccessControlUnauthorizedAccount", account=world.moe.address)
    reverts(lambda: world.sender.submit(world.moe, reg.contract.functions.setRoleAuthority(
        int(BusinessRole.CELL_MAKER), MOE_ROLE)), "AccessControlUnauthorizedAccount", account=world.moe.address)
    world.sender.submit(world.governance, reg.contract.functions.setRoleAuthority(int(BusinessRole.CELL_MAKER),
                                                                                  MOE_ROLE))
    newcomer = Account.create().address
    reg.register(world.moe, newcomer, [BusinessRole.CELL_MAKER])
    assert reg.is_active(newcomer, BusinessRole.CELL_MAKER)


def test_facility_rules(world: World) -> None:
    reg = world.ledger.registry
    fid = identifier("NEW-PLANT")
    now = world.now
    reverts(lambda: reg.register_facility(world.moe, FACILITY, world.recycler.address, now, now + DAY),
            "RegistryFacilityExists")
    reverts(lambda: reg.register_facility(world.moe, fid, world.recycler.address, now, now),
            "RegistryInvalidValidity", validFrom=now, validUntil=now)
    reverts(lambda: reg.register_facility(world.motie, fid, world.recycler.address, now, now + DAY),
            "RegistryUnauthorizedAuthority", caller=world.motie.address)
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


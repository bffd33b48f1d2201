"""Typed client of the ParticipantRegistry (business registration)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from chain_client.client import ContractClient
from chain_client.errors import decodes_reverts
from chain_client.vocabulary import AUTHORITY_ROLES, BusinessRole, ParticipantStatus, role_mask, roles_of

ZERO32 = b"\x00" * 32


@dataclass(frozen=True)
class Participant:
    address: str
    roles: list[BusinessRole]
    status: ParticipantStatus  # summary: active if a held role is active, else suspended, else revoked
    registered_at: int
    status_changed_at: int
    suspended_roles: list[BusinessRole]  # suspended by the authority that administers each
    revoked_roles: list[BusinessRole]  # revoked (for good) by the authority that administers each
    status_reason: bytes
    profile_hash: bytes

    def role_status(self, role: BusinessRole) -> ParticipantStatus:
        """The status of ``role`` (each role's status is set by the authority administering it)."""
        if role in self.revoked_roles:
            return ParticipantStatus.REVOKED
        if role not in self.roles:
            return ParticipantStatus.NONE
        return ParticipantStatus.SUSPENDED if role in self.suspended_roles else ParticipantStatus.ACTIVE


@dataclass(frozen=True)
class Facility:
    facility_id: bytes
    operator: str
    valid_from: int
    valid_until: int
    revoked: bool
    scope_hash: bytes


class Registry(ContractClient):
    """Business registration. Authority roles are granted by the policy committee (see
    :mod:`chain_client.rule_changes`), never directly by a key."""

    # writes ------------------------------------------------------------------------------------------------
    def register(self, authority: LocalAccount, account: str, roles: Iterable[BusinessRole] | BusinessRole,
                 profile_hash: bytes = ZERO32) -> TxReceipt:
        return self.submit(authority, self.contract.functions.registerParticipant(
            Web3.to_checksum_address(account), role_mask(roles), profile_hash))

    def grant_roles(self, authority: LocalAccount, account: str, roles: Iterable[BusinessRole]) -> TxReceipt:
        return self.submit(authority, self.contract.functions.grantBusinessRoles(account, role_mask(roles)))

    def revoke_roles(self, authority: LocalAccount, account: str, roles: Iterable[BusinessRole]) -> TxReceipt:
        return self.submit(authority, self.contract.functions.revokeBusinessRoles(account, role_mask(roles)))

    def suspend(self, authority: LocalAccount, account: str, reason_hash: bytes = ZERO32) -> TxReceipt:
        return self.submit(authority, self.contract.functions.suspendParticipant(account, reason_hash))

    def reinstate(self, authority: LocalAccount, account: str, reason_hash: bytes = ZERO32) -> TxReceipt:
        return self.submit(authority, self.contract.functions.reinstateParticipant(account, reason_hash))

    def revoke(self, authority: LocalAccount, account: str, reason_hash: bytes = ZERO32) -> TxReceipt:
        return self.submit(authority, self.contract.functions.revokeParticipant(account, reason_hash))

    def register_facility(self, authority: LocalAccount, facility_id: bytes, operator: str, valid_from: int,
                          valid_until: int, scope_hash: bytes = ZERO32) -> TxReceipt:
        return self.submit(authority, self.contract.functions.registerFacility(
            facility_id, Web3.to_checksum_address(operator), valid_from, valid_until, scope_hash))

    def renew_facility(self, authority: LocalAccount, facility_id: bytes, valid_until: int) -> TxReceipt:
        return self.submit(authority, self.contract.functions.renewFacility(facility_id, valid_until))

    def revoke_facility(self, authority: LocalAccount, facility_id: bytes, reason_hash: bytes = ZERO32) -> TxReceipt:
        return self.submit(authority, self.contract.functions.revokeFacility(facility_id, reason_hash))

    # reads -------------------------------------------------------------------------------------------------
    @decodes_reverts
    def participant(self, account: str) -> Participant:
        roles, status, registered, changed, suspended, revoked, reason, profile = self.contract.functions.participant(
            Web3.to_checksum_address(account)).call()
        return Participant(Web3.to_checksum_address(account), roles_of(roles), ParticipantStatus(status),
                           registered, changed, roles_of(suspended), roles_of(revoked), bytes(reason), bytes(profile))

    @decodes_reverts
    def role_status(self, account: str, role: BusinessRole) -> ParticipantStatus:
        return ParticipantStatus(self.contract.functions.roleStatus(Web3.to_checksum_address(account),
                                                                   int(role)).call())

    @decodes_reverts
    def facility(self, facility_id: bytes) -> Facility:
        operator, valid_from, valid_until, revoked, scope = self.contract.functions.facility(facility_id).call()
        return Facility(facility_id, operator, valid_from, valid_until, revoked, bytes(scope))

    @decodes_reverts
    def is_active(self, account: str, roles: Iterable[BusinessRole] | BusinessRole) -> bool:
        return bool(self.contract.functions.isActive(Web3.to_checksum_address(account), role_mask(roles)).call())

    @decodes_reverts
    def governance_admin(self) -> str:
        """The holder of ``DEFAULT_ADMIN_ROLE`` (the committee's timelock)."""
        return Web3.to_checksum_address(self.contract.functions.defaultAdmin().call())

    @decodes_reverts
    def has_authority(self, authority: str, account: str) -> bool:
        role = AUTHORITY_ROLES[authority]
        return bool(self.contract.functions.hasRole(role, Web3.to_checksum_address(account)).call())

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {Authorities} from "./Authorities.sol";

/// @title ParticipantRegistry
/// @notice The business registration system. Authorities are AccessControl roles (see {Authorities}); governance
/// (`DEFAULT_ADMIN_ROLE`, held by the policy committee's timelock) grants them and decides which authority
/// administers which business role. Every other contract of the suite asks this one whether an acting party is
/// active in the right role.
/// @dev Governance is transferred only by OpenZeppelin's two-step, delayed default admin transfer. Separation of
/// duties: an authority (any role of this AccessControl) is never a registered business and vice versa, and
/// governance holds no ministry role. Status is kept per business role (bitmasks in the participant's first slot),
/// so a role check costs one storage read. Writes accept ERC-2771 meta-transactions from the suite's forwarder.
contract ParticipantRegistry is IParticipantRegistry, AccessControlDefaultAdminRules, ERC2771Context {
    uint32 private constant _ALL_ROLES = uint32((1 << (uint256(type(BusinessRole).max) + 1)) - 1);
    uint32 private constant _RECYCLER = uint32(1) << uint8(BusinessRole.Recycler);

    mapping(address account => Participant) private _participants;
    mapping(bytes32 facilityId => Facility) private _facilities;
    mapping(BusinessRole role => bytes32 authorityRole) private _roleAuthority;
    /// @dev Number of authority roles other than governance that an account holds.
    mapping(address account => uint256) private _ministryRoleCount;

    /// @param adminDelay Delay of a governance (default admin) transfer, see {AccessControlDefaultAdminRules}.
    /// @param governance Holder of `DEFAULT_ADMIN_ROLE` (the policy committee's timelock): grants authority roles
    /// and maps business roles to them.
    /// @param trustedForwarder The suite's ERC-2771 forwarder.
    constructor(uint48 adminDelay, address governance, address trustedForwarder)
        AccessControlDefaultAdminRules(adminDelay, governance)
        ERC2771Context(trustedForwarder)
    {
        _setRoleAuthority(BusinessRole.Recycler, Authorities.MOE);
        _setRoleAuthority(BusinessRole.CollectorDismantler, Authorities.MOE);
        _setRoleAuthority(BusinessRole.Transporter, Authorities.MOE);
        _setRoleAuthority(BusinessRole.StorageOperator, Authorities.MOE);
        _setRoleAuthority(BusinessRole.MaterialProcessor, Authorities.MOTIE);
        _setRoleAuthority(BusinessRole.CellMaker, Authorities.MOTIE);
        _setRoleAuthority(BusinessRole.ReuseRemanufacturer, Authorities.MOTIE);
        _setRoleAuthority(BusinessRole.InspectionBody, Authorities.MOTIE);
        _setRoleAuthority(BusinessRole.ImporterVerifier, Authorities.MOTIE);
        _setRoleAuthority(BusinessRole.EvMaker, Authorities.MOLIT);
        _setRoleAuthority(BusinessRole.Evaluator, Authorities.MOLIT);
    }

    // ----------------------------------------------------------------------------------------------- participants

    /// @inheritdoc IParticipantRegistry
    function registerParticipant(address account, uint32 roles, bytes32 profileHash) external {
        if (account == address(0)) revert RegistryZeroAddress();
        Participant storage p = _participants[account];
        if (p.status != Status.None) revert RegistryParticipantExists(account);
        address authority = _msgSender();
        _checkAdministersAll(authority, roles);
        _checkNotAuthority(account);
        p.roles = roles;
        p.status = Status.Active;
        p.registeredAt = uint64(block.timestamp);
        p.statusChangedAt = uint64(block.timestamp);
        p.profileHash = profileHash;
        emit ParticipantRegistered(account, roles, profileHash, authority);
    }

    /// @inheritdoc IParticipantRegistry
    function grantBusinessRoles(address account, uint32 roles) external {
        Participant storage p = _existingNotRevoked(account);
        address authority = _msgSender();
        _checkAdministersAll(authority, roles);
        _checkNotAuthority(account);
        // A role its authority revoked stays revoked.
        if ((roles & p.revokedRoles) != 0) revert RegistryParticipantNotActive(account, Status.Revoked);
        p.roles |= roles;
        p.status = _summary(p);
        emit ParticipantRolesChanged(account, p.roles, authority);
    }

    /// @inheritdoc IParticipantRegistry
    function revokeBusinessRoles(address account, uint32 roles) external {
        Participant storage p = _existingNotRevoked(account);
        address authority = _msgSender();
        _checkAdministersAll(authority, roles);
        // The suspended / revoked bits stay, so removing and granting a role again does not lift its status.
        p.roles &= ~roles;
        p.status = _summary(p);
        emit ParticipantRolesChanged(account, p.roles, authority);
    }

    /// @inheritdoc IParticipantRegistry
    function suspendParticipant(address account, bytes32 reasonHash) external {
        (Participant storage p, uint32 remit, address authority) = _remit(account);
        uint32 target = remit & ~p.revokedRoles;
        if (target == 0) revert RegistryInvalidStatusTransition(account, Status.Revoked, Status.Suspended);
        if ((target & ~p.suspendedRoles) == 0) {
            revert RegistryInvalidStatusTransition(account, Status.Suspended, Status.Suspended);
        }
        p.suspendedRoles |= target;
        _statusChanged(account, p, Status.Suspended, reasonHash, authority, target);
    }

    /// @inheritdoc IParticipantRegistry
    function reinstateParticipant(address account, bytes32 reasonHash) external {
        (Participant storage p, uint32 remit, address authority) = _remit(account);
        uint32 target = remit & ~p.revokedRoles;
        if (target == 0) revert RegistryInvalidStatusTransition(account, Status.Revoked, Status.Active);
        if ((target & p.suspendedRoles) == 0) {
            revert RegistryInvalidStatusTransition(account, Status.Active, Status.Active);
        }
        p.suspendedRoles &= ~target;
        _statusChanged(account, p, Status.Active, reasonHash, authority, target);
    }

    /// @inheritdoc IParticipantRegistry
    function revokeParticipant(address account, bytes32 reasonHash) external {
        // Revocation is reachable from Active and Suspended alike.
        (Participant storage p, uint32 remit, address authority) = _remit(account);
        uint32 target = remit & ~p.revokedRoles;
        if (target == 0) revert RegistryInvalidStatusTransition(account, Status.Revoked, Status.Revoked);
        p.revokedRoles |= target;
        p.suspendedRoles &= ~target;
        _statusChanged(account, p, Status.Revoked, reasonHash, authority, target);
    }

    /// @inheritdoc IParticipantRegistry
    function setRoleAuthority(BusinessRole role, bytes32 authorityRole) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (authorityRole == DEFAULT_ADMIN_ROLE) revert RegistryInvalidAuthorityRole(authorityRole);
        _setRoleAuthority(role, authorityRole);
    }

    // ------------------------------------------------------------------------------------------------- facilities

    /// @inheritdoc IParticipantRegistry
    function registerFacility(
        bytes32 facilityId,
        address operator,
        uint64 validFrom,
        uint64 validUntil,
        bytes32 scopeHash
    ) external {
        if (_facilities[facilityId].operator != address(0)) revert RegistryFacilityExists(facilityId);
        if (validUntil <= validFrom) revert RegistryInvalidValidity(validFrom, validUntil);
        _checkAdministers(_msgSender(), BusinessRole.Recycler);
        _requireActive(operator, _participants[operator], _RECYCLER);
        _facilities[facilityId] = Facility(operator, validFrom, validUntil, false, scopeHash);
        emit FacilityRegistered(facilityId, operator, validFrom, validUntil, scopeHash);
    }

    /// @inheritdoc IParticipantRegistry
    function renewFacility(bytes32 facilityId, uint64 validUntil) external {
        Facility storage f = _administeredFacility(facilityId);
        if (validUntil <= f.validFrom) revert RegistryInvalidValidity(f.validFrom, validUntil);
        f.validUntil = validUntil;
        emit FacilityRenewed(facilityId, validUntil);
    }

    /// @inheritdoc IParticipantRegistry
    function revokeFacility(bytes32 facilityId, bytes32 reasonHash) external {
        Facility storage f = _administeredFacility(facilityId);
        f.revoked = true;
        emit FacilityRevoked(facilityId, reasonHash);
    }

    // ------------------------------------------------------------------------------------------------------ views

    /// @inheritdoc IParticipantRegistry
    function participant(address account) external view returns (Participant memory) {
        return _participants[account];
    }

    /// @inheritdoc IParticipantRegistry
    function facility(bytes32 facilityId) external view returns (Facility memory) {
        return _facilities[facilityId];
    }

    /// @inheritdoc IParticipantRegistry
    function roleAuthority(BusinessRole role) external view returns (bytes32) {
        return _roleAuthority[role];
    }

    /// @inheritdoc IParticipantRegistry
    function roleStatus(address account, BusinessRole role) external view returns (Status) {
        Participant storage p = _participants[account];
        uint32 bit = uint32(1) << uint8(role);
        if ((p.revokedRoles & bit) != 0) return Status.Revoked;
        if ((p.roles & bit) == 0) return Status.None;
        return (p.suspendedRoles & bit) != 0 ? Status.Suspended : Status.Active;
    }

    /// @inheritdoc IParticipantRegistry
    function isActive(address account, uint32 anyOfRoles) external view returns (bool) {
        Participant storage p = _participants[account];
        return (p.roles & anyOfRoles & ~(p.suspendedRoles | p.revokedRoles)) != 0;
    }

    /// @inheritdoc IParticipantRegistry
    function checkActive(address account, uint32 anyOfRoles) external view {
        _requireActive(account, _participants[account], anyOfRoles);
    }

    /// @inheritdoc IParticipantRegistry
    function checkFacility(bytes32 facilityId, address account, uint64 from, uint64 until) external view {
        Facility storage f = _facilities[facilityId];
        if (f.operator == address(0)) revert RegistryUnknownFacility(facilityId);
        if (f.operator != account) revert RegistryFacilityOperatorMismatch(facilityId, account);
        if (f.revoked || from < f.validFrom || until > f.validUntil || until < from) {
            revert RegistryFacilityNotValid(facilityId, from, until);
        }
    }

    // ------------------------------------------------------------------------------------- separation of duties

    /// @dev Every role of this AccessControl is an authority role: a registered business cannot get one, governance
    /// cannot get a ministry role and a ministry cannot become governance.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        if (_participants[account].status != Status.None) revert RegistryBusinessCannotBeAuthority(account, role);
        if (role == DEFAULT_ADMIN_ROLE) {
            if (_ministryRoleCount[account] != 0) revert RegistryGovernanceCannotBeMinistry(account, role);
        } else if (hasRole(DEFAULT_ADMIN_ROLE, account)) {
            revert RegistryGovernanceCannotBeMinistry(account, role);
        }
        granted = super._grantRole(role, account);
        if (granted && role != DEFAULT_ADMIN_ROLE) ++_ministryRoleCount[account];
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role != DEFAULT_ADMIN_ROLE) --_ministryRoleCount[account];
    }

    function _checkNotAuthority(address account) private view {
        if (_ministryRoleCount[account] != 0 || hasRole(DEFAULT_ADMIN_ROLE, account)) {
            revert RegistryAuthorityCannotBeBusiness(account);
        }
    }

    // --------------------------------------------------------------------------------------------------- internal

    function _requireActive(address account, Participant storage p, uint32 anyOfRoles) private view {
        Status status = p.status;
        if (status == Status.None) revert RegistryUnknownParticipant(account);
        uint32 held = p.roles & anyOfRoles;
        if (held == 0) {
            if (status != Status.Active) revert RegistryParticipantNotActive(account, status);
            revert RegistryMissingRole(account, anyOfRoles);
        }
        uint32 revoked = held & p.revokedRoles;
        uint32 suspended = held & p.suspendedRoles;
        if ((held & ~(revoked | suspended)) == 0) {
            revert RegistryParticipantNotActive(account, suspended != 0 ? Status.Suspended : Status.Revoked);
        }
    }

    function _existingNotRevoked(address account) private view returns (Participant storage p) {
        p = _participants[account];
        if (p.status == Status.None) revert RegistryUnknownParticipant(account);
        if (p.status == Status.Revoked) revert RegistryParticipantNotActive(account, Status.Revoked);
    }

    /// @dev The participant, the roles it holds (or had revoked) that the caller administers, and the caller.
    function _remit(address account) private view returns (Participant storage p, uint32 remit, address authority) {
        p = _participants[account];
        if (p.status == Status.None) revert RegistryUnknownParticipant(account);
        authority = _msgSender();
        uint32 roles = p.roles | p.revokedRoles;
        remit = _administeredAmong(authority, roles);
        if (remit == 0) revert RegistryUnauthorizedAuthority(authority, _firstRole(roles));
    }

    function _statusChanged(
        address account,
        Participant storage p,
        Status to,
        bytes32 reasonHash,
        address authority,
        uint32 roles
    ) private {
        p.status = _summary(p);
        p.statusChangedAt = uint64(block.timestamp);
        p.statusReason = reasonHash;
        emit ParticipantStatusChanged(account, to, reasonHash, authority, roles);
    }

    /// @dev Active if a held role is active, else Suspended if a held role is suspended, else Revoked if a role was
    /// revoked, else Active (a participant whose roles were all removed).
    function _summary(Participant storage p) private view returns (Status) {
        uint32 held = p.roles & ~p.revokedRoles;
        if ((held & ~p.suspendedRoles) != 0) return Status.Active;
        if (held != 0) return Status.Suspended;
        return p.revokedRoles != 0 ? Status.Revoked : Status.Active;
    }

    function _administeredFacility(bytes32 facilityId) private view returns (Facility storage f) {
        f = _facilities[facilityId];
        if (f.operator == address(0)) revert RegistryUnknownFacility(facilityId);
        if (f.revoked) revert RegistryFacilityNotValid(facilityId, f.validFrom, f.validUntil);
        _checkAdministers(_msgSender(), BusinessRole.Recycler);
    }

    function _checkAdministers(address caller, BusinessRole role) private view {
        if (!hasRole(_roleAuthority[role], caller)) revert RegistryUnauthorizedAuthority(caller, role);
    }

    /// @dev Reverts unless `caller` administers every role in the non-empty, valid bitmask `roles`.
    function _checkAdministersAll(address caller, uint32 roles) private view {
        if (roles == 0 || (roles & ~_ALL_ROLES) != 0) revert RegistryInvalidRoles(roles);
        for (uint8 i = 0; i <= uint8(type(BusinessRole).max); ++i) {
            if ((roles & (uint32(1) << i)) != 0) _checkAdministers(caller, BusinessRole(i));
        }
    }

    /// @dev The roles among `roles` that `caller` administers (only the roles in `roles` are looked up).
    function _administeredAmong(address caller, uint32 roles) private view returns (uint32 mask) {
        for (uint8 i = 0; i <= uint8(type(BusinessRole).max); ++i) {
            uint32 bit = uint32(1) << i;
            if ((roles & bit) != 0 && hasRole(_roleAuthority[BusinessRole(i)], caller)) mask |= bit;
        }
    }

    function _firstRole(uint32 roles) private pure returns (BusinessRole) {
        for (uint8 i = 0; i <= uint8(type(BusinessRole).max); ++i) {
            if ((roles & (uint32(1) << i)) != 0) return BusinessRole(i);
        }
        return BusinessRole(0);
    }

    function _setRoleAuthority(BusinessRole role, bytes32 authorityRole) private {
        _roleAuthority[role] = authorityRole;
        emit RoleAuthoritySet(role, authorityRole);
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {Authorities} from "./Authorities.sol";

/// @title ParticipantRegistry
/// @notice The business registration system. Authorities are AccessControl roles (see {Authorities}); governance
/// (`DEFAULT_ADMIN_ROLE`) grants them and decides which authority administers which business role. Every other
/// contract of the suite asks this one whether an acting party is active and holds the right role.
/// @dev Writes accept ERC-2771 meta-transactions from the suite's forwarder, so a ministry or business can sign
/// and let the portal relay.
contract ParticipantRegistry is IParticipantRegistry, AccessControl, ERC2771Context {
    uint8 private constant _ACTIVE = uint8(1) << uint8(Status.Active);
    uint8 private constant _SUSPENDED = uint8(1) << uint8(Status.Suspended);
    uint32 private constant _ALL_ROLES = uint32((1 << (uint256(type(BusinessRole).max) + 1)) - 1);

    mapping(address account => Participant) private _participants;
    mapping(bytes32 facilityId => Facility) private _facilities;
    mapping(BusinessRole role => bytes32 authorityRole) private _roleAuthority;

    /// @param governance Holder of `DEFAULT_ADMIN_ROLE`: grants authority roles and maps business roles to them.
    /// @param trustedForwarder The suite's ERC-2771 forwarder.
    constructor(address governance, address trustedForwarder) ERC2771Context(trustedForwarder) {
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
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
        p.roles |= roles;
        emit ParticipantRolesChanged(account, p.roles, authority);
    }

    /// @inheritdoc IParticipantRegistry
    function revokeBusinessRoles(address account, uint32 roles) external {
        Participant storage p = _existingNotRevoked(account);
        address authority = _msgSender();
        _checkAdministersAll(authority, roles);
        p.roles &= ~roles;
        emit ParticipantRolesChanged(account, p.roles, authority);
    }

    /// @inheritdoc IParticipantRegistry
    function suspendParticipant(address account, bytes32 reasonHash) external {
        _changeStatus(account, _ACTIVE, Status.Suspended, reasonHash);
    }

    /// @inheritdoc IParticipantRegistry
    function reinstateParticipant(address account, bytes32 reasonHash) external {
        _changeStatus(account, _SUSPENDED, Status.Active, reasonHash);
    }

    /// @inheritdoc IParticipantRegistry
    function revokeParticipant(address account, bytes32 reasonHash) external {
        // Revocation is reachable from Active and Suspended alike.
        _changeStatus(account, _ACTIVE | _SUSPENDED, Status.Revoked, reasonHash);
    }

    /// @inheritdoc IParticipantRegistry
    function setRoleAuthority(BusinessRole role, bytes32 authorityRole) external onlyRole(DEFAULT_ADMIN_ROLE) {
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
        Participant storage p = _participants[operator];
        _requireActive(operator, p, type(uint32).max);
        _checkAdministersAny(_msgSender(), p.roles);
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
    function isActive(address account, uint32 anyOfRoles) external view returns (bool) {
        Participant storage p = _participants[account];
        return p.status == Status.Active && (p.roles & anyOfRoles) != 0;
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

    // --------------------------------------------------------------------------------------------------- internal

    function _requireActive(address account, Participant storage p, uint32 anyOfRoles) private view {
        Status status = p.status;
        if (status == Status.None) revert RegistryUnknownParticipant(account);
        if (status != Status.Active) revert RegistryParticipantNotActive(account, status);
        if ((p.roles & anyOfRoles) == 0) revert RegistryMissingRole(account, anyOfRoles);
    }

    function _existingNotRevoked(address account) private view returns (Participant storage p) {
        p = _participants[account];
        if (p.status == Status.None) revert RegistryUnknownParticipant(account);
        if (p.status == Status.Revoked) revert RegistryParticipantNotActive(account, Status.Revoked);
    }

    /// @dev `allowedFrom` is a bitmask of statuses (`1 << uint8(status)`) the change may start from.
    function _changeStatus(address account, uint8 allowedFrom, Status to, bytes32 reasonHash) private {
        Participant storage p = _participants[account];
        if (p.status == Status.None) revert RegistryUnknownParticipant(account);
        if ((allowedFrom & (uint8(1) << uint8(p.status))) == 0) {
            revert RegistryInvalidStatusTransition(account, p.status, to);
        }
        address authority = _msgSender();
        _checkAdministersAny(authority, p.roles);
        p.status = to;
        p.statusChangedAt = uint64(block.timestamp);
        p.statusReason = reasonHash;
        emit ParticipantStatusChanged(account, to, reasonHash, authority);
    }

    function _administeredFacility(bytes32 facilityId) private view returns (Facility storage f) {
        f = _facilities[facilityId];
        if (f.operator == address(0)) revert RegistryUnknownFacility(facilityId);
        if (f.revoked) revert RegistryFacilityNotValid(facilityId, f.validFrom, f.validUntil);
        _checkAdministersAny(_msgSender(), _participants[f.operator].roles);
    }

    /// @dev Reverts unless `caller` administers every role in the non-empty, valid bitmask `roles`.
    function _checkAdministersAll(address caller, uint32 roles) private view {
        if (roles == 0 || (roles & ~_ALL_ROLES) != 0) revert RegistryInvalidRoles(roles);
        for (uint8 i = 0; i <= uint8(type(BusinessRole).max); ++i) {
            if ((roles & (uint32(1) << i)) != 0 && !hasRole(_roleAuthority[BusinessRole(i)], caller)) {
                revert RegistryUnauthorizedAuthority(caller, BusinessRole(i));
            }
        }
    }

    /// @dev Reverts unless `caller` administers at least one role in `roles`.
    function _checkAdministersAny(address caller, uint32 roles) private view {
        uint8 first = type(uint8).max;
        for (uint8 i = 0; i <= uint8(type(BusinessRole).max); ++i) {
            if ((roles & (uint32(1) << i)) != 0) {
                if (hasRole(_roleAuthority[BusinessRole(i)], caller)) return;
                if (first == type(uint8).max) first = i;
            }
        }
        revert RegistryUnauthorizedAuthority(caller, BusinessRole(first == type(uint8).max ? 0 : first));
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

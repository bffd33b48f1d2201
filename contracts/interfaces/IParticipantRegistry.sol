// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/// @title Business registration system: who may trade or process used batteries.
/// @notice Authorities (held as AccessControl roles) register businesses with business roles. Each business role is
/// administered by exactly one authority, and each authority acts only within that remit: the status (Active,
/// Suspended, Revoked) is kept per business role, so a business licensed by two ministries is suspended, reinstated
/// or revoked by each of them for the roles it administers only. Records are never deleted.
interface IParticipantRegistry is IAccessControl {
    /// @notice Business roles. Stored as a bitmask: bit `1 << uint8(role)`. Append only.
    enum BusinessRole {
        Recycler,
        MaterialProcessor,
        CellMaker,
        EvMaker,
        CollectorDismantler,
        ReuseRemanufacturer,
        Evaluator,
        InspectionBody,
        Transporter,
        StorageOperator,
        ImporterVerifier
    }

    enum Status {
        None,
        Active,
        Suspended,
        Revoked
    }

    /// @notice A registered business.
    struct Participant {
        uint32 roles; // bitmask of BusinessRole held
        Status status; // summary: Active if a held role is active, else Suspended if one is suspended, else Revoked
        uint64 registeredAt;
        uint64 statusChangedAt;
        uint32 suspendedRoles; // bitmask of the roles whose authority suspended them
        uint32 revokedRoles; // bitmask of the roles whose authority revoked them (final)
        bytes32 statusReason; // hash of the decision document behind the last status change
        bytes32 profileHash; // hash of the registration dossier (off-chain document)
    }

    /// @notice A production facility (e.g. a recycler's plant) with its scope registration.
    struct Facility {
        address operator;
        uint64 validFrom;
        uint64 validUntil;
        bool revoked;
        bytes32 scopeHash; // hash of the scope registration document
    }

    /// @dev `account` has never been registered.
    error RegistryUnknownParticipant(address account);
    /// @dev `account` is already registered.
    error RegistryParticipantExists(address account);
    /// @dev `account` is registered but not active.
    error RegistryParticipantNotActive(address account, Status status);
    /// @dev `account` holds none of the business roles in `anyOfRoles`.
    error RegistryMissingRole(address account, uint32 anyOfRoles);
    /// @dev `roles` is empty or names a bit beyond the defined business roles.
    error RegistryInvalidRoles(uint32 roles);
    /// @dev `caller` is not the authority that administers `role`.
    error RegistryUnauthorizedAuthority(address caller, BusinessRole role);
    /// @dev The status change `from` -> `to` is not allowed.
    error RegistryInvalidStatusTransition(address account, Status from, Status to);
    /// @dev The zero address cannot be registered.
    error RegistryZeroAddress();
    /// @dev `facilityId` is already registered.
    error RegistryFacilityExists(bytes32 facilityId);
    /// @dev `facilityId` has never been registered.
    error RegistryUnknownFacility(bytes32 facilityId);
    /// @dev The validity window is empty.
    error RegistryInvalidValidity(uint64 validFrom, uint64 validUntil);
    /// @dev `facilityId` is operated by someone else than `account`.
    error RegistryFacilityOperatorMismatch(bytes32 facilityId, address account);
    /// @dev `facilityId` is revoked or its registration does not cover [`from`, `until`].
    error RegistryFacilityNotValid(bytes32 facilityId, uint64 from, uint64 until);
    /// @dev Separation of duties: `account` holds an authority role, so it cannot be a business.
    error RegistryAuthorityCannotBeBusiness(address account);
    /// @dev Separation of duties: `account` is a registered business, so it cannot hold authority role `role`.
    error RegistryBusinessCannotBeAuthority(address account, bytes32 role);
    /// @dev Separation of duties: governance and a ministry role (`role`) cannot be held by the same `account`.
    error RegistryGovernanceCannotBeMinistry(address account, bytes32 role);
    /// @dev `authorityRole` cannot administer a business role (governance, or the empty role).
    error RegistryInvalidAuthorityRole(bytes32 authorityRole);

    /// @notice Emitted when an authority registers a business.
    event ParticipantRegistered(address indexed account, uint32 roles, bytes32 profileHash, address indexed authority);
    /// @notice Emitted when business roles are added to or removed from a participant.
    event ParticipantRolesChanged(address indexed account, uint32 roles, address indexed authority);
    /// @notice Emitted when an authority suspends, reinstates or revokes the `roles` of a participant it administers.
    event ParticipantStatusChanged(
        address indexed account,
        Status status,
        bytes32 reasonHash,
        address indexed authority,
        uint32 roles
    );
    /// @notice Emitted when governance changes which authority administers a business role.
    event RoleAuthoritySet(BusinessRole indexed role, bytes32 authorityRole);
    /// @notice Emitted when a facility is registered.
    event FacilityRegistered(
        bytes32 indexed facilityId,
        address indexed operator,
        uint64 validFrom,
        uint64 validUntil,
        bytes32 scopeHash
    );
    /// @notice Emitted when a facility's validity is renewed.
    event FacilityRenewed(bytes32 indexed facilityId, uint64 validUntil);
    /// @notice Emitted when a facility's registration is revoked.
    event FacilityRevoked(bytes32 indexed facilityId, bytes32 reasonHash);

    /// @notice Registers `account` with business `roles`. The caller must administer every role in `roles`.
    function registerParticipant(address account, uint32 roles, bytes32 profileHash) external;

    /// @notice Adds business `roles` to an existing, not revoked participant.
    function grantBusinessRoles(address account, uint32 roles) external;

    /// @notice Removes business `roles` from an existing, not revoked participant.
    function revokeBusinessRoles(address account, uint32 roles) external;

    /// @notice Suspends the roles of `account` that the caller administers (those not revoked). Other authorities'
    /// roles are untouched.
    function suspendParticipant(address account, bytes32 reasonHash) external;

    /// @notice Reinstates the suspended roles of `account` that the caller administers; a suspension imposed by
    /// another authority stays.
    function reinstateParticipant(address account, bytes32 reasonHash) external;

    /// @notice Revokes for good the roles of `account` that the caller administers; roles administered by other
    /// authorities are untouched. A revoked role cannot be granted again.
    function revokeParticipant(address account, bytes32 reasonHash) external;

    /// @notice Sets the authority (an AccessControl role) that administers business `role`. Governance only.
    function setRoleAuthority(BusinessRole role, bytes32 authorityRole) external;

    /// @notice Registers a recycling facility operated by an active recycler. Caller: the authority of the Recycler
    /// role (MoE), whatever other roles the operator holds.
    function registerFacility(
        bytes32 facilityId,
        address operator,
        uint64 validFrom,
        uint64 validUntil,
        bytes32 scopeHash
    ) external;

    /// @notice Extends or shortens a facility's validity. Caller: the authority of the Recycler role.
    function renewFacility(bytes32 facilityId, uint64 validUntil) external;

    /// @notice Revokes a facility's registration for good. Caller: the authority of the Recycler role.
    function revokeFacility(bytes32 facilityId, bytes32 reasonHash) external;

    /// @notice Returns the participant record of `account` (status None if unknown).
    function participant(address account) external view returns (Participant memory);

    /// @notice Returns the facility record of `facilityId` (operator zero if unknown).
    function facility(bytes32 facilityId) external view returns (Facility memory);

    /// @notice Returns the authority role that administers business `role`.
    function roleAuthority(BusinessRole role) external view returns (bytes32);

    /// @notice The status of business `role` for `account`: None if it does not hold it (and it was never revoked).
    function roleStatus(address account, BusinessRole role) external view returns (Status);

    /// @notice True when `account` holds at least one role in `anyOfRoles` whose status is Active.
    function isActive(address account, uint32 anyOfRoles) external view returns (bool);

    /// @notice Reverts with the precise registry error unless `account` holds a role in `anyOfRoles` whose status
    /// (set by that role's authority) is Active.
    function checkActive(address account, uint32 anyOfRoles) external view;

    /// @notice Reverts unless `facilityId` is operated by `account`, not revoked, and valid over [`from`, `until`].
    function checkFacility(bytes32 facilityId, address account, uint64 from, uint64 until) external view;
}

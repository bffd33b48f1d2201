// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Safety inspections of used batteries by accredited inspection bodies.
/// @notice A pre-distribution pass is needed before a used battery changes hands; a post-distribution pass before a
/// second-use installation. A pass counts only while its inspection body is active and until its validity ends,
/// which the inspection policy (governed) caps. A failed result stands as the battery's latest inspection of that
/// kind until a later pass that the policy allows: by another inspection body than the one that failed it, and no
/// sooner than the policy's re-test wait after the failure.
interface ISafetyInspections {
    enum Kind {
        PreDistribution,
        PostDistribution
    }

    struct Inspection {
        address body;
        bool passed;
        uint64 inspectedAt;
        uint64 validUntil;
        bytes32 findingsHash;
    }

    /// @notice The inspection policy, set through the policy committee.
    struct InspectionPolicy {
        uint64 maxValiditySeconds; // a pass is valid at most this long after the inspection
        uint64 retestWaitSeconds; // a failed battery may pass again only this long after the failure
    }

    error InspectionInvalidValidity(uint64 validUntil);
    /// @dev `validUntil` lies beyond the policy's maximum, `maxValidUntil`.
    error InspectionValidityTooLong(uint64 validUntil, uint64 maxValidUntil);
    /// @dev The battery failed its last inspection of `kind` by `failedBy`; a pass is allowed only by another body
    /// from `allowedFrom` on.
    error InspectionRetestNotAllowed(bytes32 batteryId, Kind kind, address failedBy, uint64 allowedFrom);
    /// @dev The body that passed the battery is no longer an active inspection body.
    error InspectionBodyNotActive(bytes32 batteryId, Kind kind, address body);
    /// @dev A policy with a zero maximum validity.
    error InspectionInvalidPolicy();
    error InspectionUnknownBattery(bytes32 batteryId);
    error InspectionMissing(bytes32 batteryId, Kind kind);
    error InspectionFailed(bytes32 batteryId, Kind kind);
    error InspectionExpired(bytes32 batteryId, Kind kind, uint64 validUntil);

    event InspectionRecorded(
        bytes32 indexed batteryId,
        Kind indexed kind,
        address indexed body,
        bool passed,
        uint64 validUntil,
        bytes32 findingsHash
    );

    /// @notice Emitted when governance sets the inspection policy.
    event InspectionPolicySet(InspectionPolicy policy);

    /// @notice Records an inspection (the latest of each kind counts; see the re-test rule above). Caller: an active
    /// inspection body.
    function recordInspection(bytes32 batteryId, Kind kind, bool passed, uint64 validUntil, bytes32 findingsHash)
        external;

    function inspection(bytes32 batteryId, Kind kind) external view returns (Inspection memory);

    /// @notice Reverts unless the battery's latest inspection of `kind` passed, is unexpired, and its body is active.
    function checkValid(bytes32 batteryId, Kind kind) external view;

    /// @notice Sets the inspection policy. Caller: governance (the policy committee).
    function setPolicy(InspectionPolicy calldata policy) external;

    /// @notice The inspection policy in force.
    function policy() external view returns (InspectionPolicy memory);
}

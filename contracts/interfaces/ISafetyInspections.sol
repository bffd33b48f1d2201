// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Safety inspections of used batteries by accredited inspection bodies.
/// @notice A pre-distribution pass is needed before a used battery changes hands; a post-distribution pass before a
/// second-use installation.
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

    error InspectionInvalidValidity(uint64 validUntil);
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

    /// @notice Records an inspection (the latest of each kind counts). Caller: an active inspection body.
    function recordInspection(bytes32 batteryId, Kind kind, bool passed, uint64 validUntil, bytes32 findingsHash)
        external;

    function inspection(bytes32 batteryId, Kind kind) external view returns (Inspection memory);

    /// @notice Reverts unless the battery's latest inspection of `kind` passed and is unexpired.
    function checkValid(bytes32 batteryId, Kind kind) external view;
}

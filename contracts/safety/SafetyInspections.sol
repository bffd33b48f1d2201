// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {RegistryClient} from "../common/RegistryClient.sol";
import {IBatteryPassports} from "../interfaces/IBatteryPassports.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {ISafetyInspections} from "../interfaces/ISafetyInspections.sol";

/// @title SafetyInspections
/// @notice Pre- and post-distribution safety inspections of used batteries.
contract SafetyInspections is ISafetyInspections, RegistryClient {
    uint32 private constant _BODY = uint32(1) << uint8(IParticipantRegistry.BusinessRole.InspectionBody);

    /// @notice The battery record inspected batteries belong to.
    IBatteryPassports public immutable passports;

    mapping(bytes32 batteryId => mapping(Kind => Inspection)) private _inspections;
    InspectionPolicy private _policy;

    constructor(
        IParticipantRegistry registry_,
        IBatteryPassports passports_,
        address trustedForwarder,
        InspectionPolicy memory initialPolicy
    ) RegistryClient(registry_, trustedForwarder) {
        passports = passports_;
        _setPolicy(initialPolicy);
    }

    /// @inheritdoc ISafetyInspections
    function recordInspection(bytes32 batteryId, Kind kind, bool passed, uint64 validUntil, bytes32 findingsHash)
        external
    {
        address body = _participant(_BODY);
        if (passports.battery(batteryId).status == IBatteryPassports.BatteryStatus.None) {
            revert InspectionUnknownBattery(batteryId);
        }
        if (validUntil <= block.timestamp) revert InspectionInvalidValidity(validUntil);
        uint64 maxValidUntil = uint64(block.timestamp) + _policy.maxValiditySeconds;
        if (validUntil > maxValidUntil) revert InspectionValidityTooLong(validUntil, maxValidUntil);
        Inspection storage last = _inspections[batteryId][kind];
        if (passed && last.body != address(0) && !last.passed) {
            uint64 allowedFrom = last.inspectedAt + _policy.retestWaitSeconds;
            if (body == last.body || block.timestamp < allowedFrom) {
                revert InspectionRetestNotAllowed(batteryId, kind, last.body, allowedFrom);
            }
        }
        _inspections[batteryId][kind] = Inspection(body, passed, uint64(block.timestamp), validUntil, findingsHash);
        emit InspectionRecorded(batteryId, kind, body, passed, validUntil, findingsHash);
    }

    /// @inheritdoc ISafetyInspections
    function inspection(bytes32 batteryId, Kind kind) external view returns (Inspection memory) {
        return _inspections[batteryId][kind];
    }

    /// @inheritdoc ISafetyInspections
    function checkValid(bytes32 batteryId, Kind kind) external view {
        Inspection storage i = _inspections[batteryId][kind];
        if (i.body == address(0)) revert InspectionMissing(batteryId, kind);
        if (!i.passed) revert InspectionFailed(batteryId, kind);
        if (block.timestamp > i.validUntil) revert InspectionExpired(batteryId, kind, i.validUntil);
        if (!registry.isActive(i.body, _BODY)) revert InspectionBodyNotActive(batteryId, kind, i.body);
    }

    /// @inheritdoc ISafetyInspections
    function setPolicy(InspectionPolicy calldata newPolicy) external {
        _authority(0x00); // governance: the policy committee's timelock
        _setPolicy(newPolicy);
    }

    /// @inheritdoc ISafetyInspections
    function policy() external view returns (InspectionPolicy memory) {
        return _policy;
    }

    function _setPolicy(InspectionPolicy memory newPolicy) private {
        if (newPolicy.maxValiditySeconds == 0) revert InspectionInvalidPolicy();
        _policy = newPolicy;
        emit InspectionPolicySet(newPolicy);
    }
}

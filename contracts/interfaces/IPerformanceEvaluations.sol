// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IBatteryPassports} from "./IBatteryPassports.sol";

/// @title Performance evaluation before removal (Ministry of Land, Infrastructure and Transport).
/// @notice Accredited evaluators (active participants with the Evaluator role, registered by MOLIT) register their
/// measuring devices. A device signs each measurement report as EIP-712 typed data (per-device nonce, deadline);
/// anyone may relay it. The grade is computed here from the report and MOLIT's versioned grading policy, so anyone
/// can recompute it. A battery in service can be removed only with a valid evaluation.
interface IPerformanceEvaluations {
    enum Grade {
        None,
        Upper, // remanufacture
        Middle, // reuse
        Lower // recycle
    }

    /// @notice The grading parameters (MOLIT's standard, changed through the policy committee). A fault flag in
    /// `forcingFaults` forces the lower grade. The `*Paths` fields say which second lives each grade allows, as a
    /// bitmask `1 << uint8(BatteryStatus)` over Reused, Repurposed and Remanufactured (default: upper -> all three,
    /// middle -> reuse or repurpose, lower -> none: waste and recycling only).
    struct GradingPolicy {
        uint16 upperAboveSohBps; // SOH strictly above this: upper grade (default 7000 = 70 %)
        uint16 middleAboveSohBps; // SOH strictly above this: middle grade (default 5000 = 50 %)
        uint32 forcingFaults; // bitmask of safety fault flags that force the lower grade
        uint32 validitySeconds; // how long an evaluation allows removal
        uint8 upperPaths;
        uint8 middlePaths;
        uint8 lowerPaths;
    }

    /// @notice What a device measures and signs.
    struct MeasurementReport {
        bytes32 batteryId; // keccak256 of the battery identifier
        uint16 stateOfHealthBps; // 0..10000
        uint32 remainingCapacityWh;
        uint16 resistanceIncreaseBps; // internal-resistance increase over the rated value
        uint32 cycleCount;
        uint32 faultFlags; // safety / fault flags raised by the BMS or the test
        uint64 measuredAt; // unix seconds
        bytes32 evidenceHash; // hash of the raw measurement file
        uint256 nonce; // the device's next nonce
        uint64 deadline; // the signature expires after this time
    }

    /// @notice The latest evaluation of a battery.
    struct Evaluation {
        Grade grade;
        uint16 policyVersion;
        uint16 stateOfHealthBps;
        uint64 measuredAt;
        address evaluator;
        address device;
        bytes32 reportDigest;
    }

    error EvaluationUnknownDevice(address device);
    error EvaluationDeviceExists(address device);
    error EvaluationNotDeviceOwner(address device, address caller);
    error EvaluationExpiredReport(uint64 deadline);
    error EvaluationDuplicateReport(bytes32 digest);
    error EvaluationImpossibleValue(string field, uint256 value);
    error EvaluationBatteryNotInService(bytes32 batteryId);
    error EvaluationRequired(bytes32 batteryId);
    error EvaluationInvalidPolicy();
    error EvaluationLengthMismatch(uint256 reports, uint256 signatures);
    /// @dev The device's signature over the evaluator's address does not recover to `device`.
    error EvaluationInvalidDeviceProof(address device);
    /// @dev The battery already holds an evaluation measured at `recordedAt`, later than `measuredAt`.
    error EvaluationOutdatedReport(bytes32 batteryId, uint64 recordedAt, uint64 measuredAt);
    /// @dev The battery's evaluation no longer counts: its evaluator is not active or its device was revoked.
    error EvaluationNotCounting(bytes32 batteryId, address evaluator, address device);
    /// @dev The battery's grade does not allow the second life `path` under the current policy.
    error EvaluationGradeForbids(bytes32 batteryId, Grade grade, IBatteryPassports.BatteryStatus path);

    event DeviceRegistered(address indexed device, address indexed evaluator);
    event DeviceRevoked(address indexed device, address indexed by);
    event GradingPolicySet(uint16 indexed version, GradingPolicy policy);
    event BatteryEvaluated(
        bytes32 indexed batteryId,
        Grade grade,
        uint16 policyVersion,
        address indexed evaluator,
        address indexed device,
        bytes32 reportDigest,
        uint16 stateOfHealthBps,
        uint64 measuredAt
    );

    /// @notice Registers a measuring device (its signing address) with the device's proof that it holds its key:
    /// its EIP-712 signature of `DeviceRegistration(address evaluator)` under this contract's domain. Caller: an
    /// accredited evaluator (the `evaluator` signed for).
    function registerDevice(address device, bytes calldata proof) external;

    /// @notice Revokes a device for good. Caller: its evaluator, or MOLIT.
    function revokeDevice(address device) external;

    /// @notice Sets a new version of the grading policy. Caller: governance (the policy committee).
    function setGradingPolicy(GradingPolicy calldata policy) external returns (uint16 version);

    /// @notice Records one signed report. Reverts on any invalid report: one that is the battery's recorded
    /// evaluation with {EvaluationDuplicateReport}, one whose device nonce is used (an older report, or other values
    /// signed under a used nonce) with `InvalidAccountNonce`.
    function submitReport(MeasurementReport calldata report, bytes calldata signature) external;

    /// @notice Records signed reports in order; a report already recorded is skipped (so a retried batch is
    /// idempotent): the battery's recorded one, or any report whose device nonce is already used (a device's reports
    /// are taken in nonce order, so its nonce was consumed by a recorded report and it can never be recorded). Any
    /// other invalid report reverts the whole batch. Returns how many were recorded now.
    function submitReports(MeasurementReport[] calldata reports, bytes[] calldata signatures)
        external
        returns (uint256 recorded);

    /// @notice The grade the current policy gives a report (anyone can recompute a recorded grade with it).
    function gradeOf(MeasurementReport calldata report, uint16 policyVersion) external view returns (Grade);

    /// @notice EIP-712 digest a device signs for `report`.
    function reportDigest(MeasurementReport calldata report) external view returns (bytes32);

    function evaluation(bytes32 batteryId) external view returns (Evaluation memory);

    function policy(uint16 version) external view returns (GradingPolicy memory);

    function policyCount() external view returns (uint16);

    /// @notice The evaluator that registered `device` (zero if unknown) and whether it was revoked.
    function deviceOf(address device) external view returns (address evaluator, bool revoked);

    /// @notice Reverts with {EvaluationRequired} unless the battery holds an evaluation still valid now, and with
    /// {EvaluationNotCounting} when its evaluator is no longer active or its device was revoked.
    function checkRemovable(bytes32 batteryId) external view;

    /// @notice Reverts unless the battery's evaluation counts (see {checkRemovable}; its age does not matter here) and
    /// its grade allows the second life `path` under the current policy ({EvaluationGradeForbids}).
    function checkSecondLife(bytes32 batteryId, IBatteryPassports.BatteryStatus path) external view;

    /// @notice EIP-712 digest a device signs to prove it holds its key for `evaluator`.
    function deviceRegistrationDigest(address evaluator) external view returns (bytes32);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {BPS} from "../common/Materials.sol";
import {RegistryClient} from "../common/RegistryClient.sol";
import {IBatteryPassports} from "../interfaces/IBatteryPassports.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IPerformanceEvaluations} from "../interfaces/IPerformanceEvaluations.sol";
import {Authorities} from "../registry/Authorities.sol";

/// @title PerformanceEvaluations
/// @notice Signed measurement reports from accredited evaluators' devices, graded on-chain.
contract PerformanceEvaluations is IPerformanceEvaluations, RegistryClient, EIP712, Nonces {
    /// @dev keccak256("MeasurementReport(bytes32 batteryId,uint16 stateOfHealthBps,uint32 remainingCapacityWh,
    /// uint16 resistanceIncreaseBps,uint32 cycleCount,uint32 faultFlags,uint64 measuredAt,bytes32 evidenceHash,
    /// uint256 nonce,uint64 deadline)")
    bytes32 public constant MEASUREMENT_REPORT_TYPEHASH =
        keccak256(
            "MeasurementReport(bytes32 batteryId,uint16 stateOfHealthBps,uint32 remainingCapacityWh,"
            "uint16 resistanceIncreaseBps,uint32 cycleCount,uint32 faultFlags,uint64 measuredAt,bytes32 evidenceHash,"
            "uint256 nonce,uint64 deadline)"
        );

    /// @dev keccak256("DeviceRegistration(address evaluator)")
    bytes32 public constant DEVICE_REGISTRATION_TYPEHASH = keccak256("DeviceRegistration(address evaluator)");
    /// @dev Second lives a grading policy may allow (bits `1 << uint8(BatteryStatus)`).
    uint8 private constant _SECOND_LIVES = uint8(
        (1 << uint8(IBatteryPassports.BatteryStatus.Reused)) | (1 << uint8(IBatteryPassports.BatteryStatus.Repurposed)) |
            (1 << uint8(IBatteryPassports.BatteryStatus.Remanufactured))
    );

    uint32 private constant _EVALUATOR = uint32(1) << uint8(IParticipantRegistry.BusinessRole.Evaluator);

    struct Device {
        address evaluator;
        bool revoked;
    }

    /// @dev A battery's latest evaluation as stored: one slot for what the rules read, one for the report's digest.
    /// The evaluator is not stored: a device belongs to one evaluator for good ({Device}). The measured values
    /// beyond the state of health are in the signed report (calldata of the recording transaction) and the event.
    struct StoredEvaluation {
        Grade grade;
        uint16 policyVersion;
        uint16 stateOfHealthBps;
        uint40 measuredAt;
        address device;
        bytes32 reportDigest;
    }

    /// @notice The battery record whose in-service batteries are evaluated.
    IBatteryPassports public immutable passports;

    mapping(address device => Device) private _devices;
    mapping(bytes32 batteryId => StoredEvaluation) private _evaluations;
    GradingPolicy[] private _policies;

    constructor(
        IParticipantRegistry registry_,
        IBatteryPassports passports_,
        address trustedForwarder,
        GradingPolicy memory initialPolicy
    ) RegistryClient(registry_, trustedForwarder) EIP712("BatteryLedgerEvaluations", "1") {
        passports = passports_;
        _setPolicy(initialPolicy);
    }

    /// @inheritdoc IPerformanceEvaluations
    function registerDevice(address device, bytes calldata proof) external {
        address evaluator = _participant(_EVALUATOR);
        if (device == address(0) || _devices[device].evaluator != address(0)) revert EvaluationDeviceExists(device);
        (address signer, ECDSA.RecoverError err, bytes32 errArg) =
            ECDSA.tryRecover(deviceRegistrationDigest(evaluator), proof);
        if (err != ECDSA.RecoverError.NoError || errArg != bytes32(0) || signer != device) {
            revert EvaluationInvalidDeviceProof(device);
        }
        _devices[device] = Device(evaluator, false);
        emit DeviceRegistered(device, evaluator);
    }

    /// @inheritdoc IPerformanceEvaluations
    function revokeDevice(address device) external {
        address caller = _msgSender();
        Device storage d = _devices[device];
        if (d.evaluator == address(0) || d.revoked) revert EvaluationUnknownDevice(device);
        if (d.evaluator != caller && !registry.hasRole(Authorities.MOLIT, caller)) {
            revert EvaluationNotDeviceOwner(device, caller);
        }
        d.revoked = true;
        emit DeviceRevoked(device, caller);
    }

    /// @inheritdoc IPerformanceEvaluations
    function setGradingPolicy(GradingPolicy calldata newPolicy) external returns (uint16 version) {
        _authority(0x00); // governance: the policy committee's timelock
        return _setPolicy(newPolicy);
    }

    /// @inheritdoc IPerformanceEvaluations
    function submitReport(MeasurementReport calldata report, bytes calldata signature) external {
        bytes32 digest = reportDigest(report);
        if (_evaluations[report.batteryId].reportDigest == digest) revert EvaluationDuplicateReport(digest);
        _record(report, signature, digest, false, address(0));
    }

    /// @inheritdoc IPerformanceEvaluations
    function submitReports(MeasurementReport[] calldata reports, bytes[] calldata signatures)
        external
        returns (uint256 recorded)
    {
        if (reports.length != signatures.length) revert EvaluationLengthMismatch(reports.length, signatures.length);
        address checked = address(0); // the device whose evaluator this batch found active (no registry change here)
        for (uint256 i = 0; i < reports.length; ++i) {
            MeasurementReport calldata r = reports[i];
            bytes32 digest = reportDigest(r);
            if (_evaluations[r.batteryId].reportDigest == digest) continue; // recorded, and still the latest
            address device = _record(r, signatures[i], digest, true, checked);
            if (device == address(0)) continue; // its nonce was used: recorded before (since superseded)
            checked = device;
            ++recorded;
        }
    }

    /// @inheritdoc IPerformanceEvaluations
    function gradeOf(MeasurementReport calldata report, uint16 policyVersion) public view returns (Grade) {
        GradingPolicy storage p = _policies[policyVersion - 1];
        if (report.faultFlags & p.forcingFaults != 0) return Grade.Lower;
        if (report.stateOfHealthBps > p.upperAboveSohBps) return Grade.Upper;
        if (report.stateOfHealthBps > p.middleAboveSohBps) return Grade.Middle;
        return Grade.Lower;
    }

    /// @inheritdoc IPerformanceEvaluations
    function reportDigest(MeasurementReport calldata r) public view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        MEASUREMENT_REPORT_TYPEHASH,
                        r.batteryId,
                        r.stateOfHealthBps,
                        r.remainingCapacityWh,
                        r.resistanceIncreaseBps,
                        r.cycleCount,
                        r.faultFlags,
                        r.measuredAt,
                        r.evidenceHash,
                        r.nonce,
                        r.deadline
                    )
                )
            );
    }

    /// @inheritdoc IPerformanceEvaluations
    function evaluation(bytes32 batteryId) external view returns (Evaluation memory) {
        StoredEvaluation storage e = _evaluations[batteryId];
        return Evaluation(e.grade, e.policyVersion, e.stateOfHealthBps, e.measuredAt, _devices[e.device].evaluator,
            e.device, e.reportDigest);
    }

    /// @inheritdoc IPerformanceEvaluations
    function policy(uint16 version) external view returns (GradingPolicy memory) {
        return _policies[version - 1];
    }

    /// @inheritdoc IPerformanceEvaluations
    function policyCount() external view returns (uint16) {
        return uint16(_policies.length);
    }

    /// @inheritdoc IPerformanceEvaluations
    function deviceOf(address device) external view returns (address evaluator, bool revoked) {
        Device storage d = _devices[device];
        return (d.evaluator, d.revoked);
    }

    /// @inheritdoc IPerformanceEvaluations
    function deviceRegistrationDigest(address evaluator) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(DEVICE_REGISTRATION_TYPEHASH, evaluator)));
    }

    /// @inheritdoc IPerformanceEvaluations
    function checkRemovable(bytes32 batteryId) external view {
        StoredEvaluation storage e = _counting(batteryId);
        if (block.timestamp > e.measuredAt + _policies[e.policyVersion - 1].validitySeconds) {
            revert EvaluationRequired(batteryId);
        }
    }

    /// @inheritdoc IPerformanceEvaluations
    function checkSecondLife(bytes32 batteryId, IBatteryPassports.BatteryStatus path) external view {
        StoredEvaluation storage e = _counting(batteryId);
        GradingPolicy storage p = _policies[_policies.length - 1];
        Grade grade = e.grade;
        uint8 allowed = grade == Grade.Upper ? p.upperPaths : grade == Grade.Middle ? p.middlePaths : p.lowerPaths;
        if (allowed & (uint8(1) << uint8(path)) == 0) revert EvaluationGradeForbids(batteryId, grade, path);
    }

    /// @dev The battery's evaluation, which must exist and still count (evaluator active, device not revoked).
    function _counting(bytes32 batteryId) private view returns (StoredEvaluation storage e) {
        e = _evaluations[batteryId];
        if (e.grade == Grade.None) revert EvaluationRequired(batteryId);
        Device storage d = _devices[e.device];
        if (d.revoked || !registry.isActive(d.evaluator, _EVALUATOR)) {
            revert EvaluationNotCounting(batteryId, d.evaluator, e.device);
        }
    }

    /// @dev Records report `r` (EIP-712 digest `digest`) and returns its device. In a batch (`inBatch`; `checked` is
    /// the device whose evaluator the batch already found active), a report whose device nonce is already used
    /// returns zero instead: the device's reports are taken in nonce order, so it was recorded before.
    function _record(MeasurementReport calldata r, bytes calldata signature, bytes32 digest, bool inBatch,
        address checked) private returns (address device)
    {
        if (inBatch) {
            device = ECDSA.recover(digest, signature);
            if (r.nonce < nonces(device)) return address(0);
        }
        if (block.timestamp > r.deadline) revert EvaluationExpiredReport(r.deadline);
        if (!inBatch) device = ECDSA.recover(digest, signature);
        Device storage d = _devices[device];
        address evaluator = d.evaluator;
        if (evaluator == address(0) || d.revoked) revert EvaluationUnknownDevice(device);
        if (device != checked) registry.checkActive(evaluator, _EVALUATOR);
        _useCheckedNonce(device, r.nonce);
        if (r.stateOfHealthBps > BPS) revert EvaluationImpossibleValue("stateOfHealthBps", r.stateOfHealthBps);
        if (r.measuredAt > block.timestamp) revert EvaluationImpossibleValue("measuredAt", r.measuredAt);
        if (passports.statusOf(r.batteryId) != IBatteryPassports.BatteryStatus.InService) {
            revert EvaluationBatteryNotInService(r.batteryId);
        }
        _store(r, digest, device, evaluator);
    }

    /// @dev Grades `r` under the current policy and makes it the battery's evaluation, unless it is older.
    function _store(MeasurementReport calldata r, bytes32 digest, address device, address evaluator) private {
        uint40 recordedAt = _evaluations[r.batteryId].measuredAt;
        if (r.measuredAt < recordedAt) revert EvaluationOutdatedReport(r.batteryId, recordedAt, r.measuredAt);
        uint16 version = uint16(_policies.length);
        Grade grade = gradeOf(r, version);
        _evaluations[r.batteryId] =
            StoredEvaluation(grade, version, r.stateOfHealthBps, uint40(r.measuredAt), device, digest);
        emit BatteryEvaluated(r.batteryId, grade, version, evaluator, device, digest, r.stateOfHealthBps, r.measuredAt);
    }

    function _setPolicy(GradingPolicy memory p) private returns (uint16 version) {
        if (p.upperAboveSohBps > BPS || p.middleAboveSohBps > p.upperAboveSohBps || p.validitySeconds == 0 ||
            (p.upperPaths | p.middlePaths | p.lowerPaths) & ~_SECOND_LIVES != 0) {
            revert EvaluationInvalidPolicy();
        }
        _policies.push(p);
        version = uint16(_policies.length);
        emit GradingPolicySet(version, p);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BPS, CustodyModel, MATERIAL_COUNT} from "../common/Materials.sol";
import {RegistryClient} from "../common/RegistryClient.sol";
import {IBatteryPassports} from "../interfaces/IBatteryPassports.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IRecycledContentTargets} from "../interfaces/IRecycledContentTargets.sol";

/// @title RecycledContentTargets
/// @notice The EU Article 8 minimum recycled-content shares and their scope as governance-owned data.
/// @dev Defaults set at deployment follow Article 8: EV, SLI, industrial and stationary batteries from the 2031
/// milestone (industrial and stationary only above 2 kWh and not with exclusively external storage), LMT batteries
/// from 2036, portable batteries never; every chain-of-custody model but book and claim counts.
contract RecycledContentTargets is IRecycledContentTargets, RegistryClient {
    mapping(uint16 year => Milestone) private _milestones;
    uint16[] private _years;
    mapping(IBatteryPassports.BatteryCategory category => uint16 fromYear) private _scopeFrom;
    mapping(CustodyModel model => bool) private _custodyCounts;
    uint32 private _industrialThresholdWh;

    constructor(IParticipantRegistry registry_, address trustedForwarder) RegistryClient(registry_, trustedForwarder) {
        _setScope(IBatteryPassports.BatteryCategory.EV, 2031);
        _setScope(IBatteryPassports.BatteryCategory.SLI, 2031);
        _setScope(IBatteryPassports.BatteryCategory.Industrial, 2031);
        _setScope(IBatteryPassports.BatteryCategory.Stationary, 2031);
        _setScope(IBatteryPassports.BatteryCategory.LMT, 2036);
        _setScope(IBatteryPassports.BatteryCategory.Portable, 0);
        _setIndustrialThreshold(2000);
        _setCustodyModelCounts(CustodyModel.IdentityPreserved, true);
        _setCustodyModelCounts(CustodyModel.Segregated, true);
        _setCustodyModelCounts(CustodyModel.ControlledBlending, true);
        _setCustodyModelCounts(CustodyModel.MassBalance, true);
        _setCustodyModelCounts(CustodyModel.BookAndClaim, false);
    }

    /// @inheritdoc IRecycledContentTargets
    function setTargets(uint16 year, uint64 effectiveFrom, uint16[MATERIAL_COUNT] calldata minimumBps) external {
        _authority(0x00);
        if (effectiveFrom == 0) revert TargetsInvalidMilestone(year);
        for (uint256 i = 0; i < MATERIAL_COUNT; ++i) {
            if (minimumBps[i] > BPS) revert TargetsInvalidMilestone(year);
        }
        if (_milestones[year].effectiveFrom == 0) _years.push(year);
        _milestones[year] = Milestone(effectiveFrom, minimumBps);
        emit TargetsSet(year, effectiveFrom, minimumBps);
    }

    /// @inheritdoc IRecycledContentTargets
    function setScope(IBatteryPassports.BatteryCategory category, uint16 fromYear) external {
        _authority(0x00);
        _setScope(category, fromYear);
    }

    /// @inheritdoc IRecycledContentTargets
    function setIndustrialThreshold(uint32 aboveWh) external {
        _authority(0x00);
        _setIndustrialThreshold(aboveWh);
    }

    /// @inheritdoc IRecycledContentTargets
    function setCustodyModelCounts(CustodyModel model, bool counts) external {
        _authority(0x00);
        _setCustodyModelCounts(model, counts);
    }

    /// @inheritdoc IRecycledContentTargets
    function milestone(uint16 year) external view returns (Milestone memory m) {
        m = _milestones[year];
        if (m.effectiveFrom == 0) revert TargetsUnknownMilestone(year);
    }

    /// @inheritdoc IRecycledContentTargets
    function milestoneYears() external view returns (uint16[] memory) {
        return _years;
    }

    /// @inheritdoc IRecycledContentTargets
    function scopeFrom(IBatteryPassports.BatteryCategory category) external view returns (uint16) {
        return _scopeFrom[category];
    }

    /// @inheritdoc IRecycledContentTargets
    function industrialThresholdWh() external view returns (uint32) {
        return _industrialThresholdWh;
    }

    /// @inheritdoc IRecycledContentTargets
    function custodyModelCounts(CustodyModel model) external view returns (bool) {
        return _custodyCounts[model];
    }

    /// @inheritdoc IRecycledContentTargets
    function inScope(IBatteryPassports.Model calldata model, uint16 year) external view returns (bool) {
        uint16 from = _scopeFrom[model.category];
        if (from == 0 || year < from) return false;
        if (model.category == IBatteryPassports.BatteryCategory.Industrial ||
            model.category == IBatteryPassports.BatteryCategory.Stationary) {
            return model.ratedEnergyWh > _industrialThresholdWh && !model.externalStorageOnly;
        }
        return true;
    }

    function _setScope(IBatteryPassports.BatteryCategory category, uint16 fromYear) private {
        _scopeFrom[category] = fromYear;
        emit ScopeSet(category, fromYear);
    }

    function _setIndustrialThreshold(uint32 aboveWh) private {
        _industrialThresholdWh = aboveWh;
        emit IndustrialThresholdSet(aboveWh);
    }

    function _setCustodyModelCounts(CustodyModel model, bool counts) private {
        _custodyCounts[model] = counts;
        emit CustodyModelCountSet(model, counts);
    }
}

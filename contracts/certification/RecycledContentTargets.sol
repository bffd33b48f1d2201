// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BPS, MATERIAL_COUNT} from "../common/Materials.sol";
import {RegistryClient} from "../common/RegistryClient.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IRecycledContentTargets} from "../interfaces/IRecycledContentTargets.sol";

/// @title RecycledContentTargets
/// @notice The EU Article 8 minimum recycled-content shares as governance-owned data, one record per milestone.
contract RecycledContentTargets is IRecycledContentTargets, RegistryClient {
    mapping(uint16 year => Milestone) private _milestones;
    uint16[] private _years;

    constructor(IParticipantRegistry registry_, address trustedForwarder) RegistryClient(registry_, trustedForwarder) {}

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
    function milestone(uint16 year) external view returns (Milestone memory m) {
        m = _milestones[year];
        if (m.effectiveFrom == 0) revert TargetsUnknownMilestone(year);
    }

    /// @inheritdoc IRecycledContentTargets
    function milestoneYears() external view returns (uint16[] memory) {
        return _years;
    }
}

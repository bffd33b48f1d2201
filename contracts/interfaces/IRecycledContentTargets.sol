// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MATERIAL_COUNT} from "../common/Materials.sol";

/// @title Minimum recycled-content shares (EU 2023/1542 Article 8), held as data.
/// @notice Governance sets, per milestone year, the date the minimums apply from and a minimum share in basis points
/// per material (indexed by {Material}; 0 means no minimum).
interface IRecycledContentTargets {
    struct Milestone {
        uint64 effectiveFrom; // unix seconds; 0 for an unknown milestone
        uint16[MATERIAL_COUNT] minimumBps;
    }

    /// @dev No milestone `year` has been set.
    error TargetsUnknownMilestone(uint16 year);
    /// @dev A minimum above 100 % or an effective date of zero.
    error TargetsInvalidMilestone(uint16 year);

    /// @notice Emitted when governance sets or changes a milestone.
    event TargetsSet(uint16 indexed year, uint64 effectiveFrom, uint16[MATERIAL_COUNT] minimumBps);

    /// @notice Sets the minimums of milestone `year`. Caller: governance (registry `DEFAULT_ADMIN_ROLE`).
    function setTargets(uint16 year, uint64 effectiveFrom, uint16[MATERIAL_COUNT] calldata minimumBps) external;

    /// @notice The milestone `year`; reverts with {TargetsUnknownMilestone} if it was never set.
    function milestone(uint16 year) external view returns (Milestone memory);

    /// @notice All milestone years, in the order they were first set.
    function milestoneYears() external view returns (uint16[] memory);
}

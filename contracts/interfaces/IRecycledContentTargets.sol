// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CustodyModel, MATERIAL_COUNT} from "../common/Materials.sol";
import {IBatteryPassports} from "./IBatteryPassports.sol";

/// @title Minimum recycled-content shares (EU 2023/1542 Article 8) and their scope, held as data.
/// @notice Governance (the policy committee) sets, per milestone year, the date the minimums apply from and a minimum
/// share in basis points per material (indexed by {Material}; 0 means no minimum); per battery category, the first
/// milestone year from which Article 8 applies (0: never, e.g. portable batteries); the energy above which an
/// industrial (or stationary) battery is in scope, unless it has exclusively external storage; and which ISO 22095
/// chain-of-custody models count toward the share (no delegated act is adopted yet; by default all but book and claim).
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
    /// @notice Emitted when governance sets the first milestone year from which a category is in scope (0: never).
    event ScopeSet(IBatteryPassports.BatteryCategory indexed category, uint16 fromYear);
    /// @notice Emitted when governance sets the energy above which industrial batteries are in scope.
    event IndustrialThresholdSet(uint32 aboveWh);
    /// @notice Emitted when governance decides whether a chain-of-custody model counts toward the share.
    event CustodyModelCountSet(CustodyModel indexed model, bool counts);

    /// @notice Sets the minimums of milestone `year`. Caller: governance (registry `DEFAULT_ADMIN_ROLE`).
    function setTargets(uint16 year, uint64 effectiveFrom, uint16[MATERIAL_COUNT] calldata minimumBps) external;

    /// @notice Sets the first milestone year from which `category` is in scope (0: never). Caller: governance.
    function setScope(IBatteryPassports.BatteryCategory category, uint16 fromYear) external;

    /// @notice Sets the rated energy above which industrial and stationary batteries are in scope. Caller: governance.
    function setIndustrialThreshold(uint32 aboveWh) external;

    /// @notice Sets whether claims under chain-of-custody `model` count toward the share. Caller: governance.
    function setCustodyModelCounts(CustodyModel model, bool counts) external;

    /// @notice The milestone `year`; reverts with {TargetsUnknownMilestone} if it was never set.
    function milestone(uint16 year) external view returns (Milestone memory);

    /// @notice All milestone years, in the order they were first set.
    function milestoneYears() external view returns (uint16[] memory);

    /// @notice The first milestone year from which `category` is in scope (0: never).
    function scopeFrom(IBatteryPassports.BatteryCategory category) external view returns (uint16);

    /// @notice The rated energy above which industrial and stationary batteries are in scope.
    function industrialThresholdWh() external view returns (uint32);

    /// @notice Whether claims under chain-of-custody `model` count toward the share.
    function custodyModelCounts(CustodyModel model) external view returns (bool);

    /// @notice Whether Article 8 covers new batteries of `model` at milestone `year`.
    function inScope(IBatteryPassports.Model calldata model, uint16 year) external view returns (bool);
}

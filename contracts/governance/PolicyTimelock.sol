// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title PolicyTimelock
/// @notice The inter-ministerial policy committee's timelock: OpenZeppelin's TimelockController, unchanged. It holds
/// the registry's `DEFAULT_ADMIN_ROLE`, which every contract of the suite treats as governance, so every rule change
/// (EU targets, grading policy, SOC limit, wiring between contracts, authority roles) waits out `getMinDelay()`
/// in public before it takes effect.
/// @dev Deployed with the ministries' Safe multisig as proposer and canceller, the open role as executor (anyone
/// executes a ready operation) and no admin: the timelock administers itself.
contract PolicyTimelock is TimelockController {
    /// @param minDelay Minimum delay of an operation, in seconds.
    /// @param proposers Accounts that may schedule (and cancel) operations.
    /// @param executors Accounts that may execute ready operations (`address(0)`: anyone).
    /// @param admin Optional administrator of the timelock's roles (`address(0)`: none).
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}

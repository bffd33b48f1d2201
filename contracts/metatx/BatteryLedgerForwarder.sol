// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title BatteryLedgerForwarder
/// @notice The suite's ERC-2771 forwarder: a participant signs an EIP-712 `ForwardRequest` (per-signer nonce,
/// deadline, chainId and this contract in the domain) and anyone may relay it. The target contracts see the signer,
/// never the relayer.
/// @dev Unlike the OpenZeppelin base, {execute} bubbles up the target's revert data, so a relayed call fails with
/// the same custom error as a direct call.
contract BatteryLedgerForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("BatteryLedgerForwarder") {}

    /// @notice Executes a signed request; reverts with the target's own error if the call fails.
    function execute(ForwardRequestData calldata request) public payable override {
        if (msg.value != request.value) {
            revert ERC2771ForwarderMismatchedValue(request.value, msg.value);
        }
        if (!_execute(request, true)) {
            // The target call was the last external call: its revert data is still in the return buffer.
            assembly ("memory-safe") {
                let ptr := mload(0x40)
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
        }
    }
}

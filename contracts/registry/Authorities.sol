// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Authorities
/// @notice The AccessControl roles of the public authorities. Governance is `DEFAULT_ADMIN_ROLE` (0x00).
library Authorities {
    /// @dev keccak256("MOE_ROLE"): Ministry of Environment (production certification, recyclers, facilities).
    bytes32 internal constant MOE = keccak256("MOE_ROLE");
    /// @dev keccak256("MOTIE_ROLE"): Ministry of Trade, Industry and Energy (usage attestation, cell makers).
    bytes32 internal constant MOTIE = keccak256("MOTIE_ROLE");
    /// @dev keccak256("MOLIT_ROLE"): Ministry of Land, Infrastructure and Transport (EV makers, evaluators).
    bytes32 internal constant MOLIT = keccak256("MOLIT_ROLE");
}

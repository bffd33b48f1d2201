// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";

/// @title RegistryClient
/// @notice Base of every contract whose writes are gated by the {IParticipantRegistry}: it resolves the acting
/// party (directly or through the suite's ERC-2771 forwarder) and checks its authority role or business role there.
abstract contract RegistryClient is ERC2771Context {
    /// @notice The business registration system this contract trusts.
    IParticipantRegistry public immutable registry;

    constructor(IParticipantRegistry registry_, address trustedForwarder) ERC2771Context(trustedForwarder) {
        registry = registry_;
    }

    /// @dev Returns the acting party after checking it holds the authority role `authorityRole` in the registry.
    function _authority(bytes32 authorityRole) internal view returns (address account) {
        account = _msgSender();
        if (!registry.hasRole(authorityRole, account)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(account, authorityRole);
        }
    }

    /// @dev Returns the acting party after checking it is active and holds one of the business roles `anyOfRoles`.
    function _participant(uint32 anyOfRoles) internal view returns (address account) {
        account = _msgSender();
        registry.checkActive(account, anyOfRoles);
    }

    /// @dev Bitmask of a single business role.
    function _role(IParticipantRegistry.BusinessRole role) internal pure returns (uint32) {
        return uint32(1) << uint8(role);
    }
}

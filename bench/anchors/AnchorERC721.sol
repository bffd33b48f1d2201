// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @notice Gas anchor: a plain OpenZeppelin ERC-721 with an open mint (benchmark only, never deployed for real).
contract AnchorERC721 is ERC721 {
    constructor() ERC721("Anchor", "ANC") {}

    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}

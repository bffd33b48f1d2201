// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Shared vocabulary of the Battery Ledger contracts.
/// @notice Enumerations used by more than one contract. Mass is always integer grams of contained metal;
/// ratios are basis points (1 bp = 0.01 %).

/// @notice Recovered metals that can be certified. The order is part of the ABI: append only.
enum Material {
    Lithium,
    Nickel,
    Cobalt,
    Manganese,
    Copper,
    Lead
}

/// @notice Origin of a recycler's feedstock, reported separately under EU 2023/1542 Article 8.
enum Feedstock {
    PreConsumer, // battery-manufacturing waste, excluding run-around scrap
    PostConsumer // waste batteries
}

/// @notice ISO 22095 chain-of-custody model named by a usage claim.
enum CustodyModel {
    IdentityPreserved,
    Segregated,
    ControlledBlending,
    MassBalance,
    BookAndClaim
}

/// @dev Number of members of {Material}; arrays indexed by material have this length.
uint256 constant MATERIAL_COUNT = 6;

/// @dev Basis points in one whole.
uint256 constant BPS = 10_000;

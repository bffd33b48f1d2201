// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Material, Feedstock} from "../common/Materials.sol";

/// @title Recycled-material certification: production (Ministry of Environment).
/// @notice A recycler applies for a production lot; MoE certifies or rejects it. A certified lot credits its mass
/// to the recycler; holders transfer parts of it to registered parties with a shipment reference; an authorised
/// consumer (the usage-attestation contract) consumes quantities exactly once. MoE can revoke a lot.
interface IProductionCertificates {
    enum LotStatus {
        None,
        Pending,
        Certified,
        Rejected,
        Revoked
    }

    /// @notice What a recycler submits for certification.
    struct LotApplication {
        Material material; // recovered metal
        Feedstock feedstock; // pre-consumer (manufacturing waste) or post-consumer (waste batteries)
        uint128 massGrams; // contained metal mass, integer grams
        bytes32 chemicalForm; // e.g. "Li2CO3", "NiSO4", as a left-aligned short string
        bytes32 facilityId; // registered facility where the lot was produced
        uint64 periodStart; // production period, unix seconds
        uint64 periodEnd;
        bytes32 sourceRoot; // Merkle root of source battery ids and/or input lots
        bytes32 evidenceHash; // hash of the evidence dossier (off-chain document)
    }

    /// @notice A lot as stored. The full application is committed by `applicationHash` and emitted in {LotApplied}.
    /// Packed in three slots: recycler and mass; then what transfers, consumptions and decisions check or write
    /// (status, material, feedstock, period end, times); then the hash. Times are unix seconds (uint40 holds them for
    /// the next 34,000 years); a lot's mass is at most 2^96 - 1 grams.
    struct Lot {
        address recycler;
        uint96 massGrams;
        Material material;
        Feedstock feedstock;
        LotStatus status;
        uint40 periodEnd; // end of the production period (mass balance: backs only claims whose period ends later)
        uint40 appliedAt;
        uint40 decidedAt; // time of certification, rejection or revocation
        bytes32 applicationHash; // keccak256(abi.encode(LotApplication))
    }

    /// @notice The part of a lot other contracts check, read from one slot.
    struct LotTerms {
        LotStatus status;
        Material material;
        Feedstock feedstock;
        uint40 periodEnd;
    }

    /// @dev `lotId` does not exist.
    error CertificatesUnknownLot(uint256 lotId);
    /// @dev `lotId` is in `status`, which does not allow the operation.
    error CertificatesInvalidLotStatus(uint256 lotId, LotStatus status);
    /// @dev A mass or quantity of zero grams.
    error CertificatesZeroQuantity();
    /// @dev The production period is empty or lies in the future.
    error CertificatesInvalidPeriod(uint64 periodStart, uint64 periodEnd);
    /// @dev `holder` holds `balance` grams of `lotId`, less than `needed`.
    error CertificatesInsufficientBalance(uint256 lotId, address holder, uint256 balance, uint256 needed);
    /// @dev A transfer to oneself.
    error CertificatesSelfTransfer(address holder);
    /// @dev A transfer without a shipment reference.
    error CertificatesMissingShipmentRef();
    /// @dev `caller` is not an authorised consumer.
    error CertificatesUnauthorizedConsumer(address caller);
    /// @dev A release of `grams` for `claimId` from `lotId` to `holder` exceeds the `consumed` grams not yet released.
    error CertificatesReleaseExceedsConsumed(uint256 lotId, address holder, uint256 claimId, uint256 consumed, uint256 grams);
    /// @dev A lot's mass exceeds 2^96 - 1 grams.
    error CertificatesMassTooLarge(uint128 massGrams);
    /// @dev A wiring address of zero.
    error CertificatesZeroAddress();

    /// @notice Emitted when a recycler applies for a lot.
    event LotApplied(uint256 indexed lotId, address indexed recycler, LotApplication application, bytes32 applicationHash);
    /// @notice Emitted when MoE certifies a lot; its mass is credited to the recycler.
    event LotCertified(uint256 indexed lotId, address indexed recycler, Material material, uint128 massGrams);
    /// @notice Emitted when MoE rejects a pending lot.
    event LotRejected(uint256 indexed lotId, bytes32 reasonHash);
    /// @notice Emitted when MoE revokes a certified lot; claims that consumed from it become tainted.
    event LotRevoked(uint256 indexed lotId, bytes32 reasonHash);
    /// @notice Emitted when a holder transfers part of a lot with a shipment.
    event QuantityTransferred(
        uint256 indexed lotId,
        address indexed from,
        address indexed to,
        uint128 grams,
        bytes32 shipmentRef
    );
    /// @notice Emitted when a consumer consumes a holder's quantity for a claim.
    event QuantityConsumed(uint256 indexed lotId, address indexed holder, uint256 indexed claimId, uint128 grams);
    /// @notice Emitted when a consumer returns a quantity to its holder (e.g. a rejected claim).
    event QuantityReleased(uint256 indexed lotId, address indexed holder, uint256 indexed claimId, uint128 grams);
    /// @notice Emitted when governance authorises or deauthorises a consumer contract.
    event ConsumerSet(address indexed consumer, bool authorised);

    /// @notice Applies for a production lot. Caller: an active recycler operating `app.facilityId`, whose
    /// registration covers the production period.
    function applyForLot(LotApplication calldata app) external returns (uint256 lotId);

    /// @notice Certifies a pending lot of an active recycler and credits its mass to the recycler. Caller: MoE.
    function certifyLot(uint256 lotId) external;

    /// @notice Rejects a pending lot. Caller: MoE.
    function rejectLot(uint256 lotId, bytes32 reasonHash) external;

    /// @notice Revokes a certified lot. Its quantities can no longer move or be consumed. Caller: MoE.
    function revokeLot(uint256 lotId, bytes32 reasonHash) external;

    /// @notice Transfers `grams` of `lotId` from the caller to `to`. Both must be active holders (recycler,
    /// material processor or cell maker).
    function transfer(uint256 lotId, address to, uint128 grams, bytes32 shipmentRef) external;

    /// @notice Consumes `grams` of `holder`'s balance in `lotId` for `claimId`. Caller: an authorised consumer.
    function consume(uint256 lotId, address holder, uint128 grams, uint256 claimId) external;

    /// @notice Returns `grams` of `lotId` that the caller consumed for `claimId` from `holder` back to `holder`; never
    /// more than was consumed and not yet released. Caller: an authorised consumer.
    function release(uint256 lotId, address holder, uint128 grams, uint256 claimId) external;

    /// @notice Authorises or deauthorises a consumer contract. Caller: governance.
    function setConsumer(address consumer, bool authorised) external;

    /// @notice The lot record of `lotId`.
    function lot(uint256 lotId) external view returns (Lot memory);

    /// @notice What other contracts check of `lotId` (status None if it does not exist), in one storage read.
    function lotTerms(uint256 lotId) external view returns (LotTerms memory);

    /// @notice Grams of `lotId` that `consumer` consumed from `holder` for `claimId` and has not released.
    function consumed(address consumer, uint256 claimId, uint256 lotId, address holder) external view returns (uint256);

    /// @notice Grams of `lotId` held by `holder`.
    function balanceOf(uint256 lotId, address holder) external view returns (uint256);

    /// @notice Number of lots applied for so far; lot ids run from 1 to this number.
    function lotCount() external view returns (uint256);

    /// @notice Whether `consumer` may consume and release quantities.
    function isConsumer(address consumer) external view returns (bool);
}

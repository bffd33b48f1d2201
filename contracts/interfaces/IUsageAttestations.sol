// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Material, Feedstock, CustodyModel, MATERIAL_COUNT} from "../common/Materials.sol";

/// @title Recycled-material certification: usage (Ministry of Trade, Industry and Energy).
/// @notice A cell maker opens a claim for one of its registered battery models x plant x production period,
/// declaring the content of every metal the model's registered composition contains and allocating certified
/// quantities it holds from lots produced no later than the claim's period ends; the allocations are consumed
/// atomically. The recycled share per metal is computed here, split pre-/post-consumer. MOTIE attests or rejects
/// (only claims of an active cell maker can be attested); a rejection returns exactly the allocated quantities. A
/// claim that consumed from a revoked lot reads as tainted. Shares are basis points: the total is floored once,
/// pre-consumer is floored, post-consumer is the rest, so pre + post = total.
/// Limits: `contentGrams` up to 2^64 - 1 per metal (1.8e13 tonnes), up to 65,535 allocations per claim, lot ids up to
/// 2^64 - 1 (SafeCast reverts beyond).
interface IUsageAttestations {
    enum ClaimStatus {
        None,
        Open,
        Attested,
        Rejected
    }

    /// @notice One allocation of a certified quantity to a claim.
    struct Allocation {
        uint256 lotId;
        uint128 grams;
    }

    /// @notice What a cell maker submits.
    struct ClaimRequest {
        bytes32 batteryModel; // keccak256 of the battery model identifier
        bytes32 plant; // keccak256 of the manufacturing plant identifier
        uint64 periodStart; // production period, unix seconds
        uint64 periodEnd;
        CustodyModel custodyModel; // ISO 22095 chain-of-custody model of this claim
        uint128[MATERIAL_COUNT] contentGrams; // metal in the batteries: active materials; whole battery for lead
        Allocation[] allocations; // certified quantities consumed by this claim
        bytes32 batteriesRoot; // Merkle root of the battery ids covered (zero if not given)
        bytes32 evidenceHash; // hash of the bill of materials / production records
    }

    /// @notice A claim as stored. The first slot holds what attesting or rejecting reads and writes (claimant, status,
    /// times: unix seconds, uint40 holds them for the next 34,000 years).
    struct Claim {
        address claimant;
        ClaimStatus status;
        CustodyModel custodyModel;
        uint40 openedAt;
        uint40 decidedAt;
        uint64 periodStart;
        uint64 periodEnd;
        uint16 allocationCount; // allocations are stored per index, see {allocations}
        bytes32 batteryModel;
        bytes32 plant;
        bytes32 batteriesRoot;
        bytes32 evidenceHash;
    }

    /// @notice An allocation as stored, with the lot's material and feedstock at consumption time.
    struct ConsumedAllocation {
        uint64 lotId;
        uint128 grams;
        Material material;
        Feedstock feedstock;
    }

    /// @notice The recycled content of one metal in a claim.
    struct MetalShare {
        uint128 contentGrams;
        uint128 preConsumerGrams;
        uint128 postConsumerGrams;
        uint16 shareBps; // (pre + post) / content, rounded down once
        uint16 preConsumerBps; // pre / content, rounded down
        uint16 postConsumerBps; // shareBps - preConsumerBps
    }

    /// @notice Whether a claim meets a milestone's minimums.
    struct Compliance {
        bool attested;
        bool tainted;
        bool inScope; // Article 8 covers the claim's model at this milestone (category, energy, storage)
        bool custodyCounts; // the claim's chain-of-custody model counts toward the share
        bool meets; // in scope, attested, not tainted, custody counts, every metal of the model at its minimum
        uint16[MATERIAL_COUNT] shareBps;
        uint16[MATERIAL_COUNT] minimumBps;
    }

    /// @dev `claimId` does not exist.
    error ClaimsUnknownClaim(uint256 claimId);
    /// @dev `claimId` is in `status`, which does not allow the operation.
    error ClaimsInvalidStatus(uint256 claimId, ClaimStatus status);
    /// @dev The production period is empty.
    error ClaimsInvalidPeriod(uint64 periodStart, uint64 periodEnd);
    /// @dev A claim must allocate at least one certified quantity.
    error ClaimsNoAllocations();
    /// @dev More recycled `material` is allocated than the batteries contain.
    error ClaimsAllocationExceedsContent(Material material, uint256 allocatedGrams, uint256 contentGrams);
    /// @dev The claim consumed from `lotId`, which has been revoked.
    error ClaimsTainted(uint256 claimId, uint256 lotId);
    /// @dev `modelId` is not a registered model.
    error ClaimsUnknownModel(bytes32 modelId);
    /// @dev `modelId` was registered by another maker than `claimant`.
    error ClaimsNotModelMaker(bytes32 modelId, address claimant);
    /// @dev The model contains `material` but the claim declares no content of it.
    error ClaimsMissingContent(Material material);
    /// @dev The claim declares content of `material`, which the model's registered composition lacks.
    error ClaimsContentNotInModel(Material material);
    /// @dev Lot `lotId` was produced until `lotPeriodEnd`, after the claim's period ends (`claimPeriodEnd`).
    error ClaimsLotAfterPeriod(uint256 lotId, uint64 lotPeriodEnd, uint64 claimPeriodEnd);

    /// @notice Emitted when a cell maker opens a claim, with the whole request (each allocation is also logged as
    /// `QuantityConsumed` by the certificates contract).
    event ClaimOpened(
        uint256 indexed claimId,
        address indexed claimant,
        bytes32 indexed batteryModel,
        ClaimRequest request
    );
    /// @notice Emitted when MOTIE attests a claim.
    event ClaimAttested(uint256 indexed claimId, address indexed authority);
    /// @notice Emitted when MOTIE rejects a claim; its allocations are released.
    event ClaimRejected(uint256 indexed claimId, bytes32 reasonHash, address indexed authority);

    /// @notice Opens a claim and consumes its allocations from the caller's balances. Caller: an active cell maker.
    function openClaim(ClaimRequest calldata request) external returns (uint256 claimId);

    /// @notice Attests an open, untainted claim of an active cell maker. Caller: MOTIE.
    function attestClaim(uint256 claimId) external;

    /// @notice Rejects an open claim and returns its allocations to the claimant. Caller: MOTIE.
    function rejectClaim(uint256 claimId, bytes32 reasonHash) external;

    /// @notice The claim record.
    function claim(uint256 claimId) external view returns (Claim memory);

    /// @notice The allocations the claim consumed.
    function allocations(uint256 claimId) external view returns (ConsumedAllocation[] memory);

    /// @notice Recycled content per metal, indexed by {Material}.
    function metalShares(uint256 claimId) external view returns (MetalShare[MATERIAL_COUNT] memory);

    /// @notice Whether the claim consumed from a revoked lot, and the first such lot.
    function isTainted(uint256 claimId) external view returns (bool tainted, uint256 revokedLotId);

    /// @notice Whether the claim meets the minimums of milestone `year`: only where Article 8 covers its model, only
    /// for chain-of-custody models that count, and for every metal of the model's registered composition.
    function compliance(uint256 claimId, uint16 year) external view returns (Compliance memory);

    /// @notice Whether `batteryId` is covered by claim `claimId`: the claim is attested and untainted, the battery's
    /// record names the claim's model (so the claimant made it), and the proof puts it in the claim's batteries root.
    function covers(uint256 claimId, bytes32 batteryId, bytes32[] calldata proof) external view returns (bool);

    /// @notice {covers} for a battery known by its anchored batch (it may have no record of its own yet): the batch is
    /// of the claim's model and `batchProof` puts the battery in it; a record, if any, names the claim's model too.
    function coversBatchMember(
        uint256 claimId,
        uint256 batchId,
        bytes32 batteryId,
        bytes32[] calldata batchProof,
        bytes32[] calldata claimProof
    ) external view returns (bool);

    /// @notice Number of claims opened so far; claim ids run from 1 to this number.
    function claimCount() external view returns (uint256);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Battery life-cycle record (battery passport).
/// @notice One record per battery, keyed by `keccak256` of its ISO/IEC 15459-style identifier. Models carry the
/// public, model-level data (committed by hash). Batteries are registered one by one or in batches anchored as a
/// Merkle root of OpenZeppelin-compatible leaves; a batch battery gets its own record on its first act, by proof.
/// Status follows the EU vocabulary; second life opens a new passport linked to the original; recycling ends the
/// passport, linked to the certificate lot that consumed it. Full records are off-chain documents bound by hash.
interface IBatteryPassports {
    enum BatteryCategory {
        EV,
        Industrial,
        LMT,
        Stationary
    }

    enum BatteryStatus {
        None,
        Original,
        InService,
        Removed,
        Reused,
        Repurposed,
        Remanufactured,
        Waste,
        Recycled
    }

    /// @notice A battery model, registered once by its manufacturer.
    struct Model {
        address manufacturer;
        BatteryCategory category;
        uint64 registeredAt;
        bytes32 dataHash; // hash of the public model-level record (chemistry, capacity, composition, plant ...)
    }

    /// @notice A batch of batteries anchored by Merkle root.
    struct Batch {
        address manufacturer;
        uint32 count;
        uint64 anchoredAt;
        bytes32 modelId;
        bytes32 root; // root of leaves keccak256(bytes.concat(keccak256(abi.encode(batteryId))))
        bytes32 dataHash; // hash of the off-chain batch file
    }

    /// @notice A battery's record.
    struct Battery {
        address operator; // the responsible economic operator now
        BatteryStatus status;
        bool closed; // true once a second-life passport replaced this one, or the battery was recycled
        uint32 sequence; // number of recorded events so far; history entries are numbered 1..sequence
        uint40 updatedAt;
        bytes32 modelId;
        bytes32 link; // InService: VIN hash; second-life original: successor id; successor: original id;
        // Recycled: the certificate lot id
        bytes32 recordHash; // hash of the latest restricted record (legitimate-interest and authority tiers)
    }

    error PassportUnknownModel(bytes32 modelId);
    error PassportModelExists(bytes32 modelId);
    error PassportUnknownBattery(bytes32 batteryId);
    error PassportBatteryExists(bytes32 batteryId);
    error PassportUnknownBatch(uint256 batchId);
    error PassportEmptyBatch();
    error PassportInvalidProof(uint256 batchId, bytes32 batteryId);
    error PassportNotOperator(bytes32 batteryId, address caller, address operator);
    error PassportInvalidTransition(bytes32 batteryId, BatteryStatus from, BatteryStatus to);
    error PassportNotManufacturer(bytes32 modelId, address caller);
    error PassportLotMismatch(uint256 lotId, address recycler);
    error PassportZeroId();

    event ModelRegistered(bytes32 indexed modelId, address indexed manufacturer, BatteryCategory category, bytes32 dataHash);
    event BatteryRegistered(bytes32 indexed batteryId, bytes32 indexed modelId, address indexed manufacturer, uint256 batchId);
    event BatchAnchored(uint256 indexed batchId, bytes32 indexed modelId, address indexed manufacturer, uint32 count,
        bytes32 root, bytes32 dataHash);
    /// @notice One entry of a battery's history: who did what, when, with which evidence, in order.
    /// @notice Emitted when governance wires the safety contracts whose checks gate removal and used-battery moves.
    event SafetyContractsSet(address indexed evaluations, address indexed inspections);
    event BatteryEventRecorded(bytes32 indexed batteryId, uint32 indexed sequence, BatteryStatus status,
        address indexed actor, address operator, bytes32 link, bytes32 evidenceHash);

    /// @notice Registers a model. Caller: an active cell maker (the battery manufacturer).
    function registerModel(bytes32 modelId, BatteryCategory category, bytes32 dataHash) external;

    /// @notice Registers one battery of the caller's model, status Original.
    function registerBattery(bytes32 batteryId, bytes32 modelId, bytes32 recordHash) external;

    /// @notice Anchors a batch of `count` batteries of the caller's model by Merkle root.
    function anchorBatch(bytes32 modelId, bytes32 root, uint32 count, bytes32 dataHash) external returns (uint256);

    /// @notice Gives a battery of a batch its own record (status Original, operator the manufacturer), by proof.
    /// Anyone may call; the proof is the authority.
    function materialize(uint256 batchId, bytes32 batteryId, bytes32[] calldata proof) external;

    /// @notice Moves custody to another active handler. A used battery (removed or in a second life) needs a valid
    /// pre-distribution inspection. Caller: the current operator.
    function transferCustody(bytes32 batteryId, address to, bytes32 evidenceHash) external;

    /// @notice Original -> InService, linked to the vehicle (hash of the VIN). Caller: the operator, an EV maker.
    function putInService(bytes32 batteryId, bytes32 vinHash, bytes32 evidenceHash) external;

    /// @notice InService -> Removed; needs a valid performance evaluation. Caller: the operator, an EV maker or a
    /// collector/dismantler.
    function markRemoved(bytes32 batteryId, bytes32 evidenceHash) external;

    /// @notice Removed -> Reused | Repurposed | Remanufactured: the original passport closes and a new one,
    /// linked to it, opens for `successorId`, operated by the caller. Caller: the operator, a reuse/remanufacture
    /// business.
    function startSecondLife(bytes32 batteryId, bytes32 successorId, BatteryStatus status, bytes32 evidenceHash)
        external;

    /// @notice Removed, Reused, Repurposed or Remanufactured (an open second-life passport) -> Waste. Caller: the operator.
    function markWaste(bytes32 batteryId, bytes32 evidenceHash) external;

    /// @notice Waste -> Recycled: the passport ends, linked to certificate lot `lotId` of the caller (a recycler).
    function markRecycled(bytes32 batteryId, uint256 lotId, bytes32 evidenceHash) external;

    /// @notice Records a second-use installation (e.g. into an energy storage system) at site `siteHash`. Needs a
    /// valid post-distribution inspection. Caller: the operator, a reuse/remanufacture business.
    function recordInstallation(bytes32 batteryId, bytes32 siteHash, bytes32 evidenceHash) external;

    /// @notice Wires the evaluation and inspection contracts (zero disables a check). Caller: governance.
    function setSafetyContracts(address evaluations, address inspections) external;

    function model(bytes32 modelId) external view returns (Model memory);

    function battery(bytes32 batteryId) external view returns (Battery memory);

    function batch(uint256 batchId) external view returns (Batch memory);

    function batchCount() external view returns (uint256);

    /// @notice Whether `batteryId` is in batch `batchId` (the proof checks against the anchored root).
    function isInBatch(uint256 batchId, bytes32 batteryId, bytes32[] calldata proof) external view returns (bool);

    /// @notice Whether `batteryId` is among the batteries a usage claim covers (its `batteriesRoot`).
    function isCoveredByClaim(uint256 claimId, bytes32 batteryId, bytes32[] calldata proof) external view returns (bool);
}

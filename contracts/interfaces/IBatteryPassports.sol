// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Battery life-cycle record (battery passport).
/// @notice One record per battery, keyed by `keccak256` of its ISO/IEC 15459-style identifier. Identifiers and
/// model names have the form `IAC:CIN:rest` (issuing agency code, company identification number, then anything);
/// the issuer prefix `IAC:CIN` is assigned to one business by the authority of its role, and only that business
/// can create a model or a battery record under it (single registration, batch materialization, second life), so
/// nobody can squat or front-run another maker's identifiers. Models carry the public, model-level data (committed by
/// hash) and what the EU rules need on-chain (category, rated energy, metals contained). Batteries are registered
/// one by one or in batches anchored as a Merkle root of OpenZeppelin-compatible leaves; a batch battery gets its own
/// record on its first act, by proof. Status follows the EU vocabulary; second life opens a new passport linked to
/// the original; recycling ends the passport, linked to the certificate lot that consumed it.
interface IBatteryPassports {
    /// @notice Battery categories of EU 2023/1542 (Article 3). Append only.
    enum BatteryCategory {
        EV,
        Industrial,
        LMT,
        Stationary, // stationary battery energy storage system (an industrial battery)
        SLI,
        Portable
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
        uint40 registeredAt;
        uint8 metals; // bitmask `1 << uint8(Material)` of the metals the batteries contain (registered composition)
        bool externalStorageOnly; // an industrial battery with exclusively external storage (Art. 8 exemption)
        uint32 ratedEnergyWh; // rated energy of one battery
        bytes32 dataHash; // hash of the public model-level data sheet (chemistry, capacity, composition, plant ...)
    }

    /// @notice What a maker registers for a model.
    struct ModelSpec {
        BatteryCategory category;
        uint8 metals; // bitmask of contained metals; must not be empty
        bool externalStorageOnly;
        uint32 ratedEnergyWh; // must not be zero
        bytes32 dataHash;
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

    /// @notice A battery's record. The hash of its latest restricted record (legitimate-interest and authority
    /// tiers) is the `evidenceHash` of its {BatteryEventRecorded} number `sequence`: events carry it, storage does not.
    struct Battery {
        address operator; // the responsible economic operator now
        BatteryStatus status;
        bool closed; // true once a second-life passport replaced this one, or the battery was recycled
        uint32 sequence; // number of recorded events so far (at most 65,535); history entries are numbered 1..sequence
        uint40 updatedAt;
        bytes32 modelId;
        bytes32 link; // InService: VIN hash; second-life original: successor id; successor: original id;
        // Recycled: the certificate lot id; installed: the site hash
    }

    error PassportUnknownModel(bytes32 modelId);
    error PassportModelExists(bytes32 modelId);
    error PassportInvalidModel(bytes32 modelId);
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
    /// @dev A custody transfer to the battery's current operator (it would only lengthen the history).
    error PassportSelfTransfer(bytes32 batteryId, address operator);
    /// @dev The battery's history holds 65,535 entries, its limit.
    error PassportHistoryFull(bytes32 batteryId);
    /// @dev `identifier` is not of the form `IAC:CIN:rest` (1 to 100 bytes, non-empty parts).
    error PassportMalformedIdentifier(string identifier);
    /// @dev The issuer prefix `prefixHash` (keccak256 of `IAC:CIN`) is not assigned to `caller`.
    error PassportNotIssuer(bytes32 prefixHash, address caller);
    /// @dev The issuer prefix is already assigned (to `holder`).
    error PassportPrefixTaken(bytes32 prefixHash, address holder);
    /// @dev `prefix` is not of the form `IAC:CIN` (1 to 32 bytes, one colon, non-empty parts).
    error PassportMalformedPrefix(string prefix);
    /// @dev A wiring address of zero.
    error PassportZeroAddress();

    /// @notice Emitted when an authority assigns an issuer prefix to a business.
    event IssuerPrefixAssigned(bytes32 indexed prefixHash, string prefix, address indexed holder,
        address indexed authority);
    event ModelRegistered(bytes32 indexed modelId, address indexed manufacturer, BatteryCategory category, bytes32 dataHash);
    event BatteryRegistered(bytes32 indexed batteryId, bytes32 indexed modelId, address indexed manufacturer, uint256 batchId);
    event BatchAnchored(uint256 indexed batchId, bytes32 indexed modelId, address indexed manufacturer, uint32 count,
        bytes32 root, bytes32 dataHash);
    /// @notice Emitted when governance wires the safety contracts whose checks gate removal and used-battery moves.
    event SafetyContractsSet(address indexed evaluations, address indexed inspections);
    /// @notice One entry of a battery's history: who did what, when, with which evidence, in order.
    event BatteryEventRecorded(bytes32 indexed batteryId, uint32 indexed sequence, BatteryStatus status,
        address indexed actor, address operator, bytes32 link, bytes32 evidenceHash);

    /// @notice Assigns the issuer prefix `IAC:CIN` to `holder`, an active cell maker or reuse/remanufacture business,
    /// for good. Caller: the authority that administers one of those roles of `holder`.
    function assignIssuerPrefix(string calldata prefix, address holder) external;

    /// @notice Registers the model `name` (`IAC:CIN:rest`, under an issuer prefix of the caller); its id is
    /// `keccak256(bytes(name))`. Caller: an active cell maker or reuse/remanufacture business. Models are numbered
    /// for the battery records: the suite holds at most 2^24 - 1 (16.7 million) models, all makers together (beyond,
    /// `SafeCastOverflowedUintDowncast`).
    function registerModel(string calldata name, ModelSpec calldata spec) external returns (bytes32 modelId);

    /// @notice Registers one battery of the caller's model, status Original, under an issuer prefix of the caller.
    /// Its id is `keccak256(bytes(identifier))`. Caller: an active cell maker.
    function registerBattery(string calldata identifier, bytes32 modelId, bytes32 recordHash) external;

    /// @notice Anchors a batch of `count` batteries of the caller's model by Merkle root.
    function anchorBatch(bytes32 modelId, bytes32 root, uint32 count, bytes32 dataHash) external returns (uint256);

    /// @notice Gives a battery of a batch its own record (status Original, operator the batch's manufacturer), by
    /// proof. The identifier must be under an issuer prefix of the batch's manufacturer. Anyone may call.
    function materialize(uint256 batchId, string calldata identifier, bytes32[] calldata proof) external;

    /// @notice Moves custody to another active handler (not the current operator). A used battery (removed or in a
    /// second life) needs a valid pre-distribution inspection. Caller: the current operator.
    function transferCustody(bytes32 batteryId, address to, bytes32 evidenceHash) external;

    /// @notice Original -> InService, linked to the vehicle (salted hash of the VIN). Caller: the operator, an EV maker.
    function putInService(bytes32 batteryId, bytes32 vinHash, bytes32 evidenceHash) external;

    /// @notice InService -> Removed; needs a valid performance evaluation that still counts. Caller: the operator,
    /// an EV maker or a collector/dismantler.
    function markRemoved(bytes32 batteryId, bytes32 evidenceHash) external;

    /// @notice Removed -> Reused | Repurposed | Remanufactured, as the grade of the battery's evaluation allows under
    /// the current grading policy: the original passport closes and a new one, linked to it, opens for
    /// `successorIdentifier` (under an issuer prefix of the caller), operated by the caller, of `successorModel` (a
    /// model of the caller; zero keeps the original's model). Caller: the operator, a reuse/remanufacture business.
    function startSecondLife(
        bytes32 batteryId,
        string calldata successorIdentifier,
        bytes32 successorModel,
        BatteryStatus status,
        bytes32 evidenceHash
    ) external;

    /// @notice Removed, Reused, Repurposed or Remanufactured (an open second-life passport) -> Waste. Caller: the operator.
    function markWaste(bytes32 batteryId, bytes32 evidenceHash) external;

    /// @notice Waste -> Recycled: the passport ends, linked to certified lot `lotId` of the caller (a recycler).
    function markRecycled(bytes32 batteryId, uint256 lotId, bytes32 evidenceHash) external;

    /// @notice Records a second-use installation (e.g. into an energy storage system) at site `siteHash`. Needs a
    /// valid post-distribution inspection. Caller: the operator, a reuse/remanufacture business.
    function recordInstallation(bytes32 batteryId, bytes32 siteHash, bytes32 evidenceHash) external;

    /// @notice Wires the evaluation and inspection contracts (neither may be zero). Caller: governance.
    function setSafetyContracts(address evaluations, address inspections) external;

    /// @notice The holder of issuer prefix `prefixHash` (zero if unassigned).
    function issuerOf(bytes32 prefixHash) external view returns (address);

    function model(bytes32 modelId) external view returns (Model memory);

    function battery(bytes32 batteryId) external view returns (Battery memory);

    /// @notice The status of a battery (None if it has no record): {battery} in one storage read.
    function statusOf(bytes32 batteryId) external view returns (BatteryStatus);

    function batch(uint256 batchId) external view returns (Batch memory);

    function batchCount() external view returns (uint256);

    /// @notice Whether `batteryId` is in batch `batchId` (the proof checks against the anchored root).
    function isInBatch(uint256 batchId, bytes32 batteryId, bytes32[] calldata proof) external view returns (bool);
}

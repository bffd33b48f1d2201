// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {RegistryClient} from "../common/RegistryClient.sol";
import {IBatteryPassports} from "../interfaces/IBatteryPassports.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IPerformanceEvaluations} from "../interfaces/IPerformanceEvaluations.sol";
import {ISafetyInspections} from "../interfaces/ISafetyInspections.sol";
import {IProductionCertificates} from "../interfaces/IProductionCertificates.sol";

/// @title BatteryPassports
/// @notice The battery life-cycle record: issuer prefixes, models, batteries (single or Merkle-anchored batches),
/// custody and the EU status machine, with links to the certification contracts.
contract BatteryPassports is IBatteryPassports, RegistryClient {
    uint32 private constant _MAKER = uint32(1) << uint8(IParticipantRegistry.BusinessRole.CellMaker);
    uint32 private constant _EV_MAKER = uint32(1) << uint8(IParticipantRegistry.BusinessRole.EvMaker);
    uint32 private constant _DISMANTLER = uint32(1) << uint8(IParticipantRegistry.BusinessRole.CollectorDismantler);
    uint32 private constant _REUSE = uint32(1) << uint8(IParticipantRegistry.BusinessRole.ReuseRemanufacturer);
    uint32 private constant _RECYCLER = uint32(1) << uint8(IParticipantRegistry.BusinessRole.Recycler);
    /// @dev Roles that may hold custody of a battery.
    uint32 private constant _HANDLERS = _MAKER | _EV_MAKER | _DISMANTLER | _REUSE | _RECYCLER |
        (uint32(1) << uint8(IParticipantRegistry.BusinessRole.Transporter)) |
        (uint32(1) << uint8(IParticipantRegistry.BusinessRole.StorageOperator));
    /// @dev Metals a model may declare (one bit per {Material}).
    uint8 private constant _ALL_METALS = 0x3f;
    uint256 private constant _MAX_IDENTIFIER = 100;
    uint256 private constant _MAX_PREFIX = 32;

    /// @notice The production certificates a recycled battery links to.
    IProductionCertificates public immutable certificates;

    /// @notice Performance evaluations (removal and second life need a valid one); zero until governance wires it.
    IPerformanceEvaluations public evaluations;
    /// @notice Safety inspections (used-battery moves and installations need a pass); zero until wired.
    ISafetyInspections public inspections;

    /// @dev A model as stored: what a battery registration reads (maker, number) in the first slot.
    struct ModelRecord {
        address manufacturer;
        BatteryCategory category;
        uint8 metals;
        bool externalStorageOnly;
        uint32 ratedEnergyWh;
        uint24 number; // 1, 2, ...: the key of {_modelIds}, what a battery record stores instead of the model id
        bytes32 dataHash;
        uint40 registeredAt;
    }

    /// @dev A battery as stored: one slot written at registration; `link` only once an act sets one. The hash of the
    /// latest restricted record is not stored: each {BatteryEventRecorded} carries it (`evidenceHash`).
    struct BatteryRecord {
        address operator;
        BatteryStatus status;
        bool closed;
        uint16 sequence;
        uint40 updatedAt;
        uint24 model; // the model's number ({ModelRecord.number})
        bytes32 link;
    }

    /// @dev A batch as stored: its maker and model number in the slot a materialization reads first.
    struct BatchRecord {
        address manufacturer;
        uint32 count;
        uint40 anchoredAt;
        uint24 model;
        bytes32 modelId;
        bytes32 root;
        bytes32 dataHash;
    }

    mapping(bytes32 prefixHash => address holder) private _issuers;
    mapping(bytes32 modelId => ModelRecord) private _models;
    mapping(bytes32 batteryId => BatteryRecord) private _batteries;
    mapping(uint256 batchId => BatchRecord) private _batches;
    uint256 private _batchCount;
    mapping(uint256 number => bytes32 modelId) private _modelIds;
    uint256 private _modelCount;

    constructor(IParticipantRegistry registry_, IProductionCertificates certificates_, address trustedForwarder)
        RegistryClient(registry_, trustedForwarder)
    {
        certificates = certificates_;
    }

    // ------------------------------------------------------------------------------------------- registration

    /// @inheritdoc IBatteryPassports
    function assignIssuerPrefix(string calldata prefix, address holder) external {
        bytes calldata raw = bytes(prefix);
        uint256 colon = _colon(raw, 0);
        if (raw.length == 0 || raw.length > _MAX_PREFIX || colon == 0 || colon + 1 >= raw.length ||
            _colon(raw, colon + 1) != raw.length) {
            revert PassportMalformedPrefix(prefix);
        }
        address authority = _msgSender();
        bool allowed = (registry.isActive(holder, _MAKER) && _administers(authority, IParticipantRegistry.BusinessRole.CellMaker)) ||
            (registry.isActive(holder, _REUSE) && _administers(authority, IParticipantRegistry.BusinessRole.ReuseRemanufacturer));
        if (!allowed) {
            registry.checkActive(holder, _MAKER | _REUSE); // the precise error when the holder is the problem
            revert IAccessControl.AccessControlUnauthorizedAccount(authority, registry.roleAuthority(
                registry.isActive(holder, _MAKER) ? IParticipantRegistry.BusinessRole.CellMaker
                    : IParticipantRegistry.BusinessRole.ReuseRemanufacturer));
        }
        bytes32 prefixHash = keccak256(raw);
        address current = _issuers[prefixHash];
        if (current != address(0)) revert PassportPrefixTaken(prefixHash, current);
        _issuers[prefixHash] = holder;
        emit IssuerPrefixAssigned(prefixHash, prefix, holder, authority);
    }

    /// @inheritdoc IBatteryPassports
    function registerModel(string calldata name, ModelSpec calldata spec) external returns (bytes32 modelId) {
        address maker = _participant(_MAKER | _REUSE);
        modelId = _issuedId(name, maker);
        if (_models[modelId].manufacturer != address(0)) revert PassportModelExists(modelId);
        if (spec.metals == 0 || spec.metals & ~_ALL_METALS != 0 || spec.ratedEnergyWh == 0) {
            revert PassportInvalidModel(modelId);
        }
        uint24 number = SafeCast.toUint24(++_modelCount); // reverts past 2^24 - 1 models
        _modelIds[number] = modelId;
        _models[modelId] = ModelRecord(maker, spec.category, spec.metals, spec.externalStorageOnly,
            spec.ratedEnergyWh, number, spec.dataHash, uint40(block.timestamp));
        emit ModelRegistered(modelId, maker, spec.category, spec.dataHash);
    }

    /// @inheritdoc IBatteryPassports
    function registerBattery(string calldata identifier, bytes32 modelId, bytes32 recordHash) external {
        address maker = _participant(_MAKER);
        uint24 number = _requireOwnModel(modelId, maker);
        _create(_issuedId(identifier, maker), modelId, number, maker, BatteryStatus.Original, bytes32(0), recordHash, 0);
    }

    /// @inheritdoc IBatteryPassports
    function anchorBatch(bytes32 modelId, bytes32 root, uint32 count, bytes32 dataHash) external returns (uint256 batchId) {
        address maker = _participant(_MAKER);
        uint24 number = _requireOwnModel(modelId, maker);
        if (count == 0 || root == bytes32(0)) revert PassportEmptyBatch();
        batchId = ++_batchCount;
        _batches[batchId] = BatchRecord(maker, count, uint40(block.timestamp), number, modelId, root, dataHash);
        emit BatchAnchored(batchId, modelId, maker, count, root, dataHash);
    }

    /// @inheritdoc IBatteryPassports
    function materialize(uint256 batchId, string calldata identifier, bytes32[] calldata proof) external {
        BatchRecord storage b = _batches[batchId];
        address manufacturer = b.manufacturer;
        if (manufacturer == address(0)) revert PassportUnknownBatch(batchId);
        bytes32 batteryId = _issuedId(identifier, manufacturer);
        if (!MerkleProof.verifyCalldata(proof, b.root, _leaf(batteryId))) revert PassportInvalidProof(batchId, batteryId);
        _create(batteryId, b.modelId, b.model, manufacturer, BatteryStatus.Original, bytes32(0), b.dataHash, batchId);
    }

    // ---------------------------------------------------------------------------------------------- life cycle

    /// @inheritdoc IBatteryPassports
    function transferCustody(bytes32 batteryId, address to, bytes32 evidenceHash) external {
        (BatteryRecord storage b, address actor) = _operated(batteryId, _HANDLERS);
        if (to == b.operator) revert PassportSelfTransfer(batteryId, to);
        registry.checkActive(to, _HANDLERS);
        BatteryStatus s = b.status;
        if (b.closed || s == BatteryStatus.Recycled) revert PassportInvalidTransition(batteryId, s, s);
        if (_isUsed(s) && address(inspections) != address(0)) {
            inspections.checkValid(batteryId, ISafetyInspections.Kind.PreDistribution);
        }
        b.operator = to;
        _record(batteryId, b, actor, s, b.link, false, evidenceHash);
    }

    /// @inheritdoc IBatteryPassports
    function putInService(bytes32 batteryId, bytes32 vinHash, bytes32 evidenceHash) external {
        (BatteryRecord storage b, address actor) = _operated(batteryId, _EV_MAKER);
        _transition(batteryId, b, BatteryStatus.Original, BatteryStatus.InService);
        _record(batteryId, b, actor, BatteryStatus.InService, vinHash, true, evidenceHash);
    }

    /// @inheritdoc IBatteryPassports
    function markRemoved(bytes32 batteryId, bytes32 evidenceHash) external {
        (BatteryRecord storage b, address actor) = _operated(batteryId, _EV_MAKER | _DISMANTLER);
        _transition(batteryId, b, BatteryStatus.InService, BatteryStatus.Removed);
        if (address(evaluations) != address(0)) evaluations.checkRemovable(batteryId);
        _record(batteryId, b, actor, BatteryStatus.Removed, b.link, false, evidenceHash);
    }

    /// @inheritdoc IBatteryPassports
    function startSecondLife(
        bytes32 batteryId,
        string calldata successorIdentifier,
        bytes32 successorModel,
        BatteryStatus status,
        bytes32 evidenceHash
    ) external {
        (BatteryRecord storage b, address actor) = _operated(batteryId, _REUSE);
        if (status != BatteryStatus.Reused && status != BatteryStatus.Repurposed && status != BatteryStatus.Remanufactured) {
            revert PassportInvalidTransition(batteryId, b.status, status);
        }
        _transition(batteryId, b, BatteryStatus.Removed, status);
        if (address(evaluations) != address(0)) evaluations.checkSecondLife(batteryId, status);
        bytes32 successorId = _issuedId(successorIdentifier, actor);
        b.closed = true;
        _record(batteryId, b, actor, status, successorId, true, evidenceHash);
        _createSuccessor(successorId, successorModel, b.model, actor, status, batteryId, evidenceHash);
    }

    /// @inheritdoc IBatteryPassports
    function markWaste(bytes32 batteryId, bytes32 evidenceHash) external {
        (BatteryRecord storage b, address actor) = _operated(batteryId, _HANDLERS);
        BatteryStatus s = b.status;
        bool allowed = !b.closed &&
            (s == BatteryStatus.Removed || s == BatteryStatus.Reused || s == BatteryStatus.Repurposed ||
                s == BatteryStatus.Remanufactured);
        if (!allowed) revert PassportInvalidTransition(batteryId, s, BatteryStatus.Waste);
        b.status = BatteryStatus.Waste;
        _record(batteryId, b, actor, BatteryStatus.Waste, b.link, false, evidenceHash);
    }

    /// @inheritdoc IBatteryPassports
    function markRecycled(bytes32 batteryId, uint256 lotId, bytes32 evidenceHash) external {
        (BatteryRecord storage b, address actor) = _operated(batteryId, _RECYCLER);
        _transition(batteryId, b, BatteryStatus.Waste, BatteryStatus.Recycled);
        IProductionCertificates.Lot memory lot = certificates.lot(lotId);
        if (lot.recycler != actor || lot.status != IProductionCertificates.LotStatus.Certified) {
            revert PassportLotMismatch(lotId, actor);
        }
        b.closed = true;
        _record(batteryId, b, actor, BatteryStatus.Recycled, bytes32(lotId), true, evidenceHash);
    }

    /// @inheritdoc IBatteryPassports
    function recordInstallation(bytes32 batteryId, bytes32 siteHash, bytes32 evidenceHash) external {
        (BatteryRecord storage b, address actor) = _operated(batteryId, _REUSE);
        BatteryStatus s = b.status;
        if (b.closed || !_isUsed(s) || s == BatteryStatus.Removed) revert PassportInvalidTransition(batteryId, s, s);
        if (address(inspections) != address(0)) {
            inspections.checkValid(batteryId, ISafetyInspections.Kind.PostDistribution);
        }
        _record(batteryId, b, actor, s, siteHash, true, evidenceHash);
    }

    /// @inheritdoc IBatteryPassports
    function setSafetyContracts(address evaluations_, address inspections_) external {
        _authority(0x00);
        if (evaluations_ == address(0) || inspections_ == address(0)) revert PassportZeroAddress();
        evaluations = IPerformanceEvaluations(evaluations_);
        inspections = ISafetyInspections(inspections_);
        emit SafetyContractsSet(evaluations_, inspections_);
    }

    // --------------------------------------------------------------------------------------------------- views

    /// @inheritdoc IBatteryPassports
    function issuerOf(bytes32 prefixHash) external view returns (address) {
        return _issuers[prefixHash];
    }

    /// @inheritdoc IBatteryPassports
    function model(bytes32 modelId) external view returns (Model memory) {
        ModelRecord storage m = _models[modelId];
        return Model(m.manufacturer, m.category, m.registeredAt, m.metals, m.externalStorageOnly, m.ratedEnergyWh,
            m.dataHash);
    }

    /// @inheritdoc IBatteryPassports
    function battery(bytes32 batteryId) external view returns (Battery memory) {
        BatteryRecord storage b = _batteries[batteryId];
        uint24 number = b.model;
        return Battery(b.operator, b.status, b.closed, b.sequence, b.updatedAt,
            number == 0 ? bytes32(0) : _modelIds[number], b.link);
    }

    /// @inheritdoc IBatteryPassports
    function statusOf(bytes32 batteryId) external view returns (BatteryStatus) {
        return _batteries[batteryId].status;
    }

    /// @inheritdoc IBatteryPassports
    function batch(uint256 batchId) external view returns (Batch memory) {
        BatchRecord storage b = _batches[batchId];
        return Batch(b.manufacturer, b.count, b.anchoredAt, b.modelId, b.root, b.dataHash);
    }

    /// @inheritdoc IBatteryPassports
    function batchCount() external view returns (uint256) {
        return _batchCount;
    }

    /// @inheritdoc IBatteryPassports
    function isInBatch(uint256 batchId, bytes32 batteryId, bytes32[] calldata proof) external view returns (bool) {
        bytes32 root = _batches[batchId].root;
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, _leaf(batteryId));
    }

    // ------------------------------------------------------------------------------------------------ internal

    /// @dev OpenZeppelin StandardMerkleTree leaf of a `bytes32` value: double-hashed against second preimages.
    function _leaf(bytes32 batteryId) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(batteryId))));
    }

    /// @dev Index of the first ':' in `raw` at or after `from`, or `raw.length` if there is none.
    function _colon(bytes calldata raw, uint256 from) private pure returns (uint256 i) {
        for (i = from; i < raw.length; ++i) {
            if (raw[i] == ":") return i;
        }
    }

    /// @dev The id (`keccak256`) of an identifier `IAC:CIN:rest` whose issuer prefix `IAC:CIN` belongs to `creator`.
    function _issuedId(string calldata identifier, address creator) private view returns (bytes32) {
        bytes calldata raw = bytes(identifier);
        uint256 first = _colon(raw, 0);
        uint256 second = first < raw.length ? _colon(raw, first + 1) : raw.length;
        if (raw.length > _MAX_IDENTIFIER || first == 0 || second == first + 1 || second + 1 >= raw.length) {
            revert PassportMalformedIdentifier(identifier);
        }
        bytes32 prefixHash = keccak256(raw[:second]);
        if (_issuers[prefixHash] != creator) revert PassportNotIssuer(prefixHash, creator);
        return keccak256(raw);
    }

    function _administers(address authority, IParticipantRegistry.BusinessRole role) private view returns (bool) {
        return registry.hasRole(registry.roleAuthority(role), authority);
    }

    /// @dev Removed from its vehicle or living a second life: a used battery under the safety rules.
    function _isUsed(BatteryStatus s) private pure returns (bool) {
        return s == BatteryStatus.Removed || s == BatteryStatus.Reused || s == BatteryStatus.Repurposed ||
            s == BatteryStatus.Remanufactured;
    }

    /// @dev The number of `maker`'s model `modelId`.
    function _requireOwnModel(bytes32 modelId, address maker) private view returns (uint24 number) {
        ModelRecord storage m = _models[modelId];
        address manufacturer = m.manufacturer;
        if (manufacturer == address(0)) revert PassportUnknownModel(modelId);
        if (manufacturer != maker) revert PassportNotManufacturer(modelId, maker);
        return m.number;
    }

    /// @dev Opens the record of `batteryId` (model `modelId`, number `number`) with its first history entry, in one
    /// storage write (two when `link` is set).
    function _create(
        bytes32 batteryId,
        bytes32 modelId,
        uint24 number,
        address operator,
        BatteryStatus status,
        bytes32 link,
        bytes32 recordHash,
        uint256 batchId
    ) private {
        if (batteryId == bytes32(0)) revert PassportZeroId();
        BatteryRecord storage b = _batteries[batteryId];
        if (b.status != BatteryStatus.None) revert PassportBatteryExists(batteryId);
        (b.operator, b.status, b.sequence, b.updatedAt, b.model) = (operator, status, 1, uint40(block.timestamp), number);
        if (link != bytes32(0)) b.link = link;
        emit BatteryRegistered(batteryId, modelId, operator, batchId);
        emit BatteryEventRecorded(batteryId, 1, status, _msgSender(), operator, link, recordHash);
    }

    /// @dev Opens the second-life passport `successorId` of `original` (model number `originalModel`), of
    /// `successorModel` (a model of `actor`), or of the original's model when that is zero.
    function _createSuccessor(
        bytes32 successorId,
        bytes32 successorModel,
        uint24 originalModel,
        address actor,
        BatteryStatus status,
        bytes32 original,
        bytes32 evidenceHash
    ) private {
        uint24 number = originalModel;
        bytes32 modelId = successorModel;
        if (modelId != bytes32(0)) number = _requireOwnModel(modelId, actor);
        else modelId = _modelIds[number];
        _create(successorId, modelId, number, actor, status, original, evidenceHash, 0);
    }

    function _operated(bytes32 batteryId, uint32 roles) private view returns (BatteryRecord storage b, address actor) {
        actor = _participant(roles);
        b = _batteries[batteryId];
        if (b.status == BatteryStatus.None) revert PassportUnknownBattery(batteryId);
        if (b.operator != actor) revert PassportNotOperator(batteryId, actor, b.operator);
    }

    function _transition(bytes32 batteryId, BatteryRecord storage b, BatteryStatus from, BatteryStatus to) private {
        if (b.status != from || b.closed) revert PassportInvalidTransition(batteryId, b.status, to);
        b.status = to;
    }

    /// @dev Appends a history entry: sequence and time in the record; `link` written when `setLink` (an act that
    /// keeps the current link passes it with `setLink` false); the evidence hash in the event only.
    function _record(
        bytes32 batteryId,
        BatteryRecord storage b,
        address actor,
        BatteryStatus status,
        bytes32 link,
        bool setLink,
        bytes32 evidenceHash
    ) private {
        if (b.sequence == type(uint16).max) revert PassportHistoryFull(batteryId);
        uint16 sequence = b.sequence + 1;
        (b.sequence, b.updatedAt) = (sequence, uint40(block.timestamp));
        if (setLink) b.link = link;
        emit BatteryEventRecorded(batteryId, sequence, status, actor, b.operator, link, evidenceHash);
    }
}

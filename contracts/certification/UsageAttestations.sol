// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Material, Feedstock, BPS, MATERIAL_COUNT} from "../common/Materials.sol";
import {RegistryClient} from "../common/RegistryClient.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IBatteryPassports} from "../interfaces/IBatteryPassports.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IProductionCertificates} from "../interfaces/IProductionCertificates.sol";
import {IRecycledContentTargets} from "../interfaces/IRecycledContentTargets.sol";
import {IUsageAttestations} from "../interfaces/IUsageAttestations.sol";
import {Authorities} from "../registry/Authorities.sol";

/// @title UsageAttestations
/// @notice Usage claims of certified recycled material and their attestation by MOTIE.
contract UsageAttestations is IUsageAttestations, RegistryClient {
    /// @dev The metal content a claim declares, per material, four to a slot. The recycled grams per metal are not
    /// stored: they are the sum of the claim's allocations of that metal, split by feedstock.
    struct Content {
        uint64[MATERIAL_COUNT] contentGrams;
    }

    /// @notice The production certificates this contract consumes from.
    IProductionCertificates public immutable certificates;
    /// @notice The minimum recycled-content shares compliance is checked against.
    IRecycledContentTargets public immutable targets;
    /// @notice The battery models (and records) claims name and cover.
    IBatteryPassports public immutable passports;

    uint32 private constant _CELL_MAKER = uint32(1) << uint8(IParticipantRegistry.BusinessRole.CellMaker);

    uint256 private _claimCount;
    mapping(uint256 claimId => Claim) private _claims;
    /// @dev Allocations by index, `0 .. claim.allocationCount - 1` (the count lives in the claim's second slot).
    mapping(uint256 claimId => mapping(uint256 index => ConsumedAllocation)) private _allocations;
    mapping(uint256 claimId => Content) private _content;

    constructor(
        IParticipantRegistry registry_,
        IProductionCertificates certificates_,
        IRecycledContentTargets targets_,
        IBatteryPassports passports_,
        address trustedForwarder
    ) RegistryClient(registry_, trustedForwarder) {
        certificates = certificates_;
        targets = targets_;
        passports = passports_;
    }

    /// @inheritdoc IUsageAttestations
    function openClaim(ClaimRequest calldata request) external returns (uint256 claimId) {
        address claimant = _participant(_CELL_MAKER);
        if (request.periodEnd < request.periodStart) revert ClaimsInvalidPeriod(request.periodStart, request.periodEnd);
        uint8 metals = _ownModelMetals(request.batteryModel, claimant);
        uint256 count = request.allocations.length;
        if (count == 0) revert ClaimsNoAllocations();
        claimId = ++_claimCount;

        uint256[] memory pre = new uint256[](MATERIAL_COUNT);
        uint256[] memory post = new uint256[](MATERIAL_COUNT);
        // Checks and effects first (the lot's terms by a one-slot view), interactions (the consumption) last.
        for (uint256 i = 0; i < count; ++i) {
            Allocation calldata a = request.allocations[i];
            IProductionCertificates.LotTerms memory lot = certificates.lotTerms(a.lotId);
            if (lot.periodEnd > request.periodEnd) revert ClaimsLotAfterPeriod(a.lotId, lot.periodEnd, request.periodEnd);
            if (lot.feedstock == Feedstock.PreConsumer) pre[uint8(lot.material)] += a.grams;
            else post[uint8(lot.material)] += a.grams;
            _allocations[claimId][i] = ConsumedAllocation(SafeCast.toUint64(a.lotId), a.grams, lot.material, lot.feedstock);
        }
        for (uint256 m = 0; m < MATERIAL_COUNT; ++m) {
            uint256 content = request.contentGrams[m];
            bool contained = metals & (uint8(1) << m) != 0;
            if (contained && content == 0) revert ClaimsMissingContent(Material(m));
            if (!contained && content != 0) revert ClaimsContentNotInModel(Material(m));
            uint256 recycled = pre[m] + post[m];
            if (recycled > content) revert ClaimsAllocationExceedsContent(Material(m), recycled, content);
            // Slots of metals not contained stay unwritten.
            if (content != 0) _content[claimId].contentGrams[m] = SafeCast.toUint64(content);
        }
        _claims[claimId] = Claim({
            claimant: claimant,
            status: ClaimStatus.Open,
            custodyModel: request.custodyModel,
            openedAt: uint40(block.timestamp),
            decidedAt: 0,
            periodStart: request.periodStart,
            periodEnd: request.periodEnd,
            allocationCount: SafeCast.toUint16(count),
            batteryModel: request.batteryModel,
            plant: request.plant,
            batteriesRoot: request.batteriesRoot,
            evidenceHash: request.evidenceHash
        });
        emit ClaimOpened(claimId, claimant, request.batteryModel, request);
        for (uint256 i = 0; i < count; ++i) {
            // Reverts the whole claim unless the lot is certified and the claimant holds the grams now.
            certificates.consume(request.allocations[i].lotId, claimant, request.allocations[i].grams, claimId);
        }
    }

    /// @inheritdoc IUsageAttestations
    function attestClaim(uint256 claimId) external {
        address authority = _authority(Authorities.MOTIE);
        Claim storage c = _openClaim(claimId);
        registry.checkActive(c.claimant, _CELL_MAKER);
        (bool tainted, uint256 lotId) = isTainted(claimId);
        if (tainted) revert ClaimsTainted(claimId, lotId);
        c.status = ClaimStatus.Attested;
        c.decidedAt = uint40(block.timestamp);
        emit ClaimAttested(claimId, authority);
    }

    /// @inheritdoc IUsageAttestations
    function rejectClaim(uint256 claimId, bytes32 reasonHash) external {
        address authority = _authority(Authorities.MOTIE);
        Claim storage c = _openClaim(claimId);
        c.status = ClaimStatus.Rejected;
        c.decidedAt = uint40(block.timestamp);
        address claimant = c.claimant;
        uint256 count = c.allocationCount;
        for (uint256 i = 0; i < count; ++i) {
            ConsumedAllocation storage a = _allocations[claimId][i];
            certificates.release(a.lotId, claimant, a.grams, claimId);
        }
        emit ClaimRejected(claimId, reasonHash, authority);
    }

    /// @inheritdoc IUsageAttestations
    function claim(uint256 claimId) external view returns (Claim memory) {
        return _existing(claimId);
    }

    /// @inheritdoc IUsageAttestations
    function allocations(uint256 claimId) external view returns (ConsumedAllocation[] memory list) {
        uint256 count = _existing(claimId).allocationCount;
        list = new ConsumedAllocation[](count);
        for (uint256 i = 0; i < count; ++i) list[i] = _allocations[claimId][i];
    }

    /// @inheritdoc IUsageAttestations
    function metalShares(uint256 claimId) public view returns (MetalShare[MATERIAL_COUNT] memory shares) {
        uint256 count = _existing(claimId).allocationCount;
        uint256[] memory pre = new uint256[](MATERIAL_COUNT);
        uint256[] memory post = new uint256[](MATERIAL_COUNT);
        for (uint256 i = 0; i < count; ++i) {
            ConsumedAllocation storage a = _allocations[claimId][i];
            if (a.feedstock == Feedstock.PreConsumer) pre[uint8(a.material)] += a.grams;
            else post[uint8(a.material)] += a.grams;
        }
        uint64[MATERIAL_COUNT] memory content = _content[claimId].contentGrams;
        for (uint256 m = 0; m < MATERIAL_COUNT; ++m) {
            if (content[m] == 0) continue;
            // Floor the total once; pre-consumer is floored, post-consumer is the rest: pre + post = total.
            uint16 total = uint16((pre[m] + post[m]) * BPS / content[m]);
            uint16 preBps = uint16(pre[m] * BPS / content[m]);
            shares[m] = MetalShare({
                contentGrams: content[m],
                preConsumerGrams: uint128(pre[m]), // at most the content (checked when the claim was opened)
                postConsumerGrams: uint128(post[m]),
                shareBps: total,
                preConsumerBps: preBps,
                postConsumerBps: total - preBps
            });
        }
    }

    /// @inheritdoc IUsageAttestations
    function isTainted(uint256 claimId) public view returns (bool tainted, uint256 revokedLotId) {
        uint256 count = _existing(claimId).allocationCount;
        for (uint256 i = 0; i < count; ++i) {
            uint256 lotId = _allocations[claimId][i].lotId;
            if (certificates.lotTerms(lotId).status == IProductionCertificates.LotStatus.Revoked) return (true, lotId);
        }
        return (false, 0);
    }

    /// @inheritdoc IUsageAttestations
    function compliance(uint256 claimId, uint16 year) external view returns (Compliance memory result) {
        Claim storage c = _existing(claimId);
        IRecycledContentTargets.Milestone memory milestone = targets.milestone(year);
        MetalShare[MATERIAL_COUNT] memory shares = metalShares(claimId);
        IBatteryPassports.Model memory m_ = passports.model(c.batteryModel);
        (result.tainted, ) = isTainted(claimId);
        result.attested = c.status == ClaimStatus.Attested;
        result.inScope = targets.inScope(m_, year);
        result.custodyCounts = targets.custodyModelCounts(c.custodyModel);
        bool meets = result.attested && !result.tainted && result.inScope;
        for (uint256 m = 0; m < MATERIAL_COUNT; ++m) {
            // A chain-of-custody model that does not count contributes no recycled share.
            uint16 share = result.custodyCounts ? shares[m].shareBps : 0;
            result.shareBps[m] = share;
            result.minimumBps[m] = milestone.minimumBps[m];
            // Every metal of the model's registered composition must meet its minimum; a metal the batteries do not
            // contain (e.g. cobalt in LFP) has none to meet.
            if (m_.metals & (uint8(1) << m) != 0 && share < milestone.minimumBps[m]) meets = false;
        }
        result.meets = meets;
    }

    /// @inheritdoc IUsageAttestations
    function covers(uint256 claimId, bytes32 batteryId, bytes32[] calldata proof) external view returns (bool) {
        Claim storage c = _claims[claimId];
        if (!_coveringClaim(claimId, c) || passports.battery(batteryId).modelId != c.batteryModel) return false;
        return MerkleProof.verifyCalldata(proof, c.batteriesRoot, _leaf(batteryId));
    }

    /// @inheritdoc IUsageAttestations
    function coversBatchMember(
        uint256 claimId,
        uint256 batchId,
        bytes32 batteryId,
        bytes32[] calldata batchProof,
        bytes32[] calldata claimProof
    ) external view returns (bool) {
        Claim storage c = _claims[claimId];
        if (!_coveringClaim(claimId, c) || passports.batch(batchId).modelId != c.batteryModel) return false;
        IBatteryPassports.Battery memory record = passports.battery(batteryId);
        if (record.status != IBatteryPassports.BatteryStatus.None && record.modelId != c.batteryModel) return false;
        return passports.isInBatch(batchId, batteryId, batchProof) &&
            MerkleProof.verifyCalldata(claimProof, c.batteriesRoot, _leaf(batteryId));
    }

    /// @inheritdoc IUsageAttestations
    function claimCount() external view returns (uint256) {
        return _claimCount;
    }

    /// @dev An attested, untainted claim that names its batteries.
    function _coveringClaim(uint256 claimId, Claim storage c) private view returns (bool) {
        if (c.status != ClaimStatus.Attested || c.batteriesRoot == bytes32(0)) return false;
        (bool tainted, ) = isTainted(claimId);
        return !tainted;
    }

    /// @dev OpenZeppelin StandardMerkleTree leaf of a `bytes32` value.
    function _leaf(bytes32 batteryId) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(batteryId))));
    }

    /// @dev The metals bitmask of `modelId`, which must be a registered model of `claimant`.
    function _ownModelMetals(bytes32 modelId, address claimant) private view returns (uint8) {
        IBatteryPassports.Model memory model = passports.model(modelId);
        if (model.manufacturer == address(0)) revert ClaimsUnknownModel(modelId);
        if (model.manufacturer != claimant) revert ClaimsNotModelMaker(modelId, claimant);
        return model.metals;
    }

    function _existing(uint256 claimId) private view returns (Claim storage c) {
        c = _claims[claimId];
        if (c.status == ClaimStatus.None) revert ClaimsUnknownClaim(claimId);
    }

    function _openClaim(uint256 claimId) private view returns (Claim storage c) {
        c = _existing(claimId);
        if (c.status != ClaimStatus.Open) revert ClaimsInvalidStatus(claimId, c.status);
    }
}

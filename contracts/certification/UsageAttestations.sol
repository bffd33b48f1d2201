// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Material, Feedstock, BPS, MATERIAL_COUNT} from "../common/Materials.sol";
import {RegistryClient} from "../common/RegistryClient.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IProductionCertificates} from "../interfaces/IProductionCertificates.sol";
import {IRecycledContentTargets} from "../interfaces/IRecycledContentTargets.sol";
import {IUsageAttestations} from "../interfaces/IUsageAttestations.sol";
import {Authorities} from "../registry/Authorities.sol";

/// @title UsageAttestations
/// @notice Usage claims of certified recycled material and their attestation by MOTIE.
contract UsageAttestations is IUsageAttestations, RegistryClient {
    /// @dev Per-metal content of a claim, packed in one slot.
    struct Content {
        uint96 contentGrams;
        uint80 preConsumerGrams;
        uint80 postConsumerGrams;
    }

    /// @notice The production certificates this contract consumes from.
    IProductionCertificates public immutable certificates;
    /// @notice The minimum recycled-content shares compliance is checked against.
    IRecycledContentTargets public immutable targets;

    uint256 private _claimCount;
    mapping(uint256 claimId => Claim) private _claims;
    mapping(uint256 claimId => ConsumedAllocation[]) private _allocations;
    mapping(uint256 claimId => mapping(Material => Content)) private _content;

    constructor(
        IParticipantRegistry registry_,
        IProductionCertificates certificates_,
        IRecycledContentTargets targets_,
        address trustedForwarder
    ) RegistryClient(registry_, trustedForwarder) {
        certificates = certificates_;
        targets = targets_;
    }

    /// @inheritdoc IUsageAttestations
    function openClaim(ClaimRequest calldata request) external returns (uint256 claimId) {
        address claimant = _participant(_role(IParticipantRegistry.BusinessRole.CellMaker));
        if (request.periodEnd < request.periodStart) revert ClaimsInvalidPeriod(request.periodStart, request.periodEnd);
        uint256 count = request.allocations.length;
        if (count == 0) revert ClaimsNoAllocations();
        claimId = ++_claimCount;

        uint256[] memory pre = new uint256[](MATERIAL_COUNT);
        uint256[] memory post = new uint256[](MATERIAL_COUNT);
        // Checks and effects first (lot data by view), interactions (the consumption) last.
        for (uint256 i = 0; i < count; ++i) {
            Allocation calldata a = request.allocations[i];
            IProductionCertificates.Lot memory lot = certificates.lot(a.lotId);
            if (lot.feedstock == Feedstock.PreConsumer) pre[uint8(lot.material)] += a.grams;
            else post[uint8(lot.material)] += a.grams;
            _allocations[claimId].push(
                ConsumedAllocation(SafeCast.toUint64(a.lotId), a.grams, lot.material, lot.feedstock)
            );
        }
        for (uint256 m = 0; m < MATERIAL_COUNT; ++m) {
            uint256 content = request.contentGrams[m];
            uint256 recycled = pre[m] + post[m];
            if (recycled > content) revert ClaimsAllocationExceedsContent(Material(m), recycled, content);
            if (content != 0) {
                _content[claimId][Material(m)] = Content(
                    SafeCast.toUint96(content),
                    SafeCast.toUint80(pre[m]),
                    SafeCast.toUint80(post[m])
                );
            }
        }
        _claims[claimId] = Claim({
            claimant: claimant,
            status: ClaimStatus.Open,
            custodyModel: request.custodyModel,
            openedAt: uint64(block.timestamp),
            decidedAt: 0,
            periodStart: request.periodStart,
            periodEnd: request.periodEnd,
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
        (bool tainted, uint256 lotId) = isTainted(claimId);
        if (tainted) revert ClaimsTainted(claimId, lotId);
        c.status = ClaimStatus.Attested;
        c.decidedAt = uint64(block.timestamp);
        emit ClaimAttested(claimId, authority);
    }

    /// @inheritdoc IUsageAttestations
    function rejectClaim(uint256 claimId, bytes32 reasonHash) external {
        address authority = _authority(Authorities.MOTIE);
        Claim storage c = _openClaim(claimId);
        c.status = ClaimStatus.Rejected;
        c.decidedAt = uint64(block.timestamp);
        address claimant = c.claimant;
        ConsumedAllocation[] storage stored = _allocations[claimId];
        for (uint256 i = 0; i < stored.length; ++i) {
            certificates.release(stored[i].lotId, claimant, stored[i].grams, claimId);
        }
        emit ClaimRejected(claimId, reasonHash, authority);
    }

    /// @inheritdoc IUsageAttestations
    function claim(uint256 claimId) external view returns (Claim memory) {
        return _existing(claimId);
    }

    /// @inheritdoc IUsageAttestations
    function allocations(uint256 claimId) external view returns (ConsumedAllocation[] memory) {
        _existing(claimId);
        return _allocations[claimId];
    }

    /// @inheritdoc IUsageAttestations
    function metalShares(uint256 claimId) public view returns (MetalShare[MATERIAL_COUNT] memory shares) {
        _existing(claimId);
        for (uint256 m = 0; m < MATERIAL_COUNT; ++m) {
            Content memory c = _content[claimId][Material(m)];
            if (c.contentGrams == 0) continue;
            shares[m] = MetalShare({
                contentGrams: c.contentGrams,
                preConsumerGrams: c.preConsumerGrams,
                postConsumerGrams: c.postConsumerGrams,
                shareBps: uint16((uint256(c.preConsumerGrams) + c.postConsumerGrams) * BPS / c.contentGrams),
                preConsumerBps: uint16(uint256(c.preConsumerGrams) * BPS / c.contentGrams),
                postConsumerBps: uint16(uint256(c.postConsumerGrams) * BPS / c.contentGrams)
            });
        }
    }

    /// @inheritdoc IUsageAttestations
    function isTainted(uint256 claimId) public view returns (bool tainted, uint256 revokedLotId) {
        _existing(claimId);
        ConsumedAllocation[] storage stored = _allocations[claimId];
        for (uint256 i = 0; i < stored.length; ++i) {
            uint256 lotId = stored[i].lotId;
            if (certificates.lot(lotId).status == IProductionCertificates.LotStatus.Revoked) return (true, lotId);
        }
        return (false, 0);
    }

    /// @inheritdoc IUsageAttestations
    function compliance(uint256 claimId, uint16 year) external view returns (Compliance memory result) {
        Claim storage c = _existing(claimId);
        IRecycledContentTargets.Milestone memory milestone = targets.milestone(year);
        MetalShare[MATERIAL_COUNT] memory shares = metalShares(claimId);
        (result.tainted, ) = isTainted(claimId);
        result.attested = c.status == ClaimStatus.Attested;
        bool meets = result.attested && !result.tainted;
        for (uint256 m = 0; m < MATERIAL_COUNT; ++m) {
            result.shareBps[m] = shares[m].shareBps;
            result.minimumBps[m] = milestone.minimumBps[m];
            // A metal the batteries do not contain (e.g. cobalt in LFP) has no minimum to meet.
            if (shares[m].contentGrams != 0 && shares[m].shareBps < milestone.minimumBps[m]) meets = false;
        }
        result.meets = meets;
    }

    /// @inheritdoc IUsageAttestations
    function claimCount() external view returns (uint256) {
        return _claimCount;
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

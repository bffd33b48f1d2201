// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BPS, Feedstock, MATERIAL_COUNT} from "../common/Materials.sol";
import {RegistryClient} from "../common/RegistryClient.sol";
import {IBatteryPassports} from "../interfaces/IBatteryPassports.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IProductionCertificates} from "../interfaces/IProductionCertificates.sol";
import {IRecyclingEfficiency} from "../interfaces/IRecyclingEfficiency.sol";
import {Authorities} from "../registry/Authorities.sol";

/// @title RecyclingEfficiency
/// @notice Recyclers' period declarations under Annex XII: efficiency and recovery computed on-chain, checked against
/// the passports they recycled and the lots MoE certified, compared with governed targets, attested by MoE.
contract RecyclingEfficiency is IRecyclingEfficiency, RegistryClient {
    uint32 private constant _RECYCLER = uint32(1) << uint8(IParticipantRegistry.BusinessRole.Recycler);

    /// @notice The passports a declaration lists.
    IBatteryPassports public immutable passports;
    /// @notice The production certificates whose lots a declaration lists.
    IProductionCertificates public immutable certificates;

    uint256 private _count;
    mapping(uint256 declarationId => Declaration) private _declarations;
    mapping(bytes32 batteryId => uint256 declarationId) private _batteryDeclaration;
    mapping(uint256 lotId => uint256 declarationId) private _lotDeclaration;
    mapping(uint16 year => Milestone) private _milestones;
    uint16[] private _years;

    constructor(
        IParticipantRegistry registry_,
        IBatteryPassports passports_,
        IProductionCertificates certificates_,
        address trustedForwarder
    ) RegistryClient(registry_, trustedForwarder) {
        passports = passports_;
        certificates = certificates_;
    }

    /// @inheritdoc IRecyclingEfficiency
    function declare(PeriodDeclaration calldata d) external returns (uint256 declarationId) {
        address recycler = _participant(_RECYCLER);
        if (d.periodEnd < d.periodStart || d.periodEnd > block.timestamp) {
            revert RecyclingInvalidPeriod(d.periodStart, d.periodEnd);
        }
        if (d.inputMassGrams == 0 || d.outputMassGrams > d.inputMassGrams) {
            revert RecyclingImpossibleMass(type(uint256).max, d.inputMassGrams, d.outputMassGrams);
        }
        if (d.batteries.length == 0) revert RecyclingNoBatteries();
        declarationId = ++_count;
        for (uint256 i = 0; i < d.batteries.length; ++i) {
            _claimBattery(d.batteries[i], recycler, d.periodStart, d.periodEnd, declarationId);
        }
        uint256[MATERIAL_COUNT] memory certified = _claimLots(d.lots, recycler, d.periodStart, d.periodEnd,
            declarationId);
        Declaration storage s = _declarations[declarationId];
        uint256 recoveredTotal = 0;
        uint8 metals = 0;
        for (uint256 m = 0; m < MATERIAL_COUNT; ++m) {
            uint256 input = d.inputMetalGrams[m];
            uint256 recovered = d.recoveredMetalGrams[m];
            if (recovered > input) revert RecyclingImpossibleMass(m, input, recovered);
            if (recovered < certified[m]) revert RecyclingOutputBelowCertified(m, recovered, certified[m]);
            recoveredTotal += recovered;
            if (input != 0) {
                metals |= uint8(1 << m);
                s.recoveryBps[m] = uint16((recovered * BPS) / input);
            }
        }
        if (recoveredTotal > d.outputMassGrams) {
            revert RecyclingImpossibleMass(type(uint256).max, d.outputMassGrams, recoveredTotal);
        }
        uint16 efficiency = uint16((uint256(d.outputMassGrams) * BPS) / d.inputMassGrams);
        bytes32 declarationHash = keccak256(abi.encode(d));
        s.recycler = recycler;
        s.chemistry = d.chemistry;
        s.status = DeclarationStatus.Pending;
        s.metals = metals;
        s.efficiencyBps = efficiency;
        s.periodStart = d.periodStart;
        s.periodEnd = d.periodEnd;
        s.submittedAt = uint64(block.timestamp);
        s.declarationHash = declarationHash;
        emit DeclarationSubmitted(declarationId, recycler, d, efficiency, s.recoveryBps, declarationHash);
    }

    /// @inheritdoc IRecyclingEfficiency
    function attest(uint256 declarationId) external {
        address authority = _authority(Authorities.MOE);
        Declaration storage s = _pendingDeclaration(declarationId);
        registry.checkActive(s.recycler, _RECYCLER);
        s.status = DeclarationStatus.Attested;
        s.decidedAt = uint64(block.timestamp);
        emit DeclarationAttested(declarationId, authority);
    }

    /// @inheritdoc IRecyclingEfficiency
    function reject(uint256 declarationId, bytes32 reasonHash) external {
        address authority = _authority(Authorities.MOE);
        Declaration storage s = _pendingDeclaration(declarationId);
        s.status = DeclarationStatus.Rejected;
        s.decidedAt = uint64(block.timestamp);
        emit DeclarationRejected(declarationId, authority, reasonHash);
    }

    /// @inheritdoc IRecyclingEfficiency
    function setTargets(uint16 year, Milestone calldata m) external {
        _authority(0x00);
        if (m.effectiveFrom == 0) revert RecyclingInvalidMilestone(year);
        for (uint256 i = 0; i < 3; ++i) {
            if (m.efficiencyBps[i] > BPS) revert RecyclingInvalidMilestone(year);
        }
        for (uint256 i = 0; i < MATERIAL_COUNT; ++i) {
            if (m.recoveryBps[i] > BPS) revert RecyclingInvalidMilestone(year);
        }
        if (_milestones[year].effectiveFrom == 0) _years.push(year);
        _milestones[year] = m;
        emit RecyclingTargetsSet(year, m);
    }

    // --------------------------------------------------------------------------------------------------- views

    /// @inheritdoc IRecyclingEfficiency
    function declaration(uint256 declarationId) external view returns (Declaration memory) {
        return _declarations[declarationId];
    }

    /// @inheritdoc IRecyclingEfficiency
    function declarationCount() external view returns (uint256) {
        return _count;
    }

    /// @inheritdoc IRecyclingEfficiency
    function milestone(uint16 year) public view returns (Milestone memory m) {
        m = _milestones[year];
        if (m.effectiveFrom == 0) revert RecyclingUnknownMilestone(year);
    }

    /// @inheritdoc IRecyclingEfficiency
    function milestoneYears() external view returns (uint16[] memory) {
        return _years;
    }

    /// @inheritdoc IRecyclingEfficiency
    function milestoneAt(uint64 time) public view returns (uint16 year) {
        uint64 best = 0;
        for (uint256 i = 0; i < _years.length; ++i) {
            uint64 from = _milestones[_years[i]].effectiveFrom;
            if (from <= time && from > best) {
                best = from;
                year = _years[i];
            }
        }
    }

    /// @inheritdoc IRecyclingEfficiency
    function assess(uint256 declarationId, uint16 year) external view returns (Assessment memory a) {
        Declaration storage s = _declarations[declarationId];
        if (s.status == DeclarationStatus.None) revert RecyclingUnknownDeclaration(declarationId);
        if (year == 0) year = milestoneAt(s.periodEnd);
        a.year = year;
        a.meetsEfficiency = true;
        a.meetsRecovery = true;
        if (year == 0) return a;
        Milestone memory m = milestone(year);
        a.efficiencyTargetBps = m.efficiencyBps[uint8(s.chemistry)];
        a.meetsEfficiency = s.efficiencyBps >= a.efficiencyTargetBps;
        a.recoveryTargetBps = m.recoveryBps;
        for (uint256 i = 0; i < MATERIAL_COUNT; ++i) {
            if (s.metals & (1 << i) != 0 && s.recoveryBps[i] < m.recoveryBps[i]) a.meetsRecovery = false;
        }
    }

    /// @inheritdoc IRecyclingEfficiency
    function declarationOfBattery(bytes32 batteryId) external view returns (uint256) {
        return _live(_batteryDeclaration[batteryId]);
    }

    /// @inheritdoc IRecyclingEfficiency
    function declarationOfLot(uint256 lotId) external view returns (uint256) {
        return _live(_lotDeclaration[lotId]);
    }

    // ------------------------------------------------------------------------------------------------ internal

    /// @dev `declarationId` if it still holds what it lists (pending or attested), else 0.
    function _live(uint256 declarationId) private view returns (uint256) {
        return declarationId != 0 && _declarations[declarationId].status != DeclarationStatus.Rejected
            ? declarationId
            : 0;
    }

    function _claimBattery(bytes32 batteryId, address recycler, uint64 from, uint64 until, uint256 declarationId)
        private
    {
        IBatteryPassports.Battery memory b = passports.battery(batteryId);
        if (b.status != IBatteryPassports.BatteryStatus.Recycled || b.operator != recycler) {
            revert RecyclingNotRecycledBy(batteryId, recycler);
        }
        IProductionCertificates.Lot memory lot = certificates.lot(uint256(b.link));
        if (lot.recycler != recycler || lot.status != IProductionCertificates.LotStatus.Certified) {
            revert RecyclingNotRecycledBy(batteryId, recycler);
        }
        if (b.updatedAt < from || b.updatedAt > until) revert RecyclingBatteryOutsidePeriod(batteryId, b.updatedAt);
        uint256 previous = _live(_batteryDeclaration[batteryId]);
        if (previous != 0) revert RecyclingBatteryDeclared(batteryId, previous);
        _batteryDeclaration[batteryId] = declarationId;
    }

    /// @dev Claims the listed lots for the declaration and returns their certified mass per metal.
    function _claimLots(uint256[] calldata lots, address recycler, uint64 from, uint64 until, uint256 declarationId)
        private
        returns (uint256[MATERIAL_COUNT] memory certified)
    {
        for (uint256 i = 0; i < lots.length; ++i) {
            uint256 lotId = lots[i];
            IProductionCertificates.Lot memory lot = certificates.lot(lotId);
            if (lot.recycler != recycler || lot.status != IProductionCertificates.LotStatus.Certified ||
                lot.feedstock != Feedstock.PostConsumer || lot.periodEnd < from || lot.periodEnd > until) {
                revert RecyclingLotMismatch(lotId, recycler);
            }
            uint256 previous = _live(_lotDeclaration[lotId]);
            if (previous != 0) revert RecyclingLotDeclared(lotId, previous);
            _lotDeclaration[lotId] = declarationId;
            certified[uint8(lot.material)] += lot.massGrams;
        }
    }

    function _pendingDeclaration(uint256 declarationId) private view returns (Declaration storage s) {
        s = _declarations[declarationId];
        if (s.status == DeclarationStatus.None) revert RecyclingUnknownDeclaration(declarationId);
        if (s.status != DeclarationStatus.Pending) revert RecyclingInvalidStatus(declarationId, s.status);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {RegistryClient} from "../common/RegistryClient.sol";
import {IBatteryPassports} from "../interfaces/IBatteryPassports.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IPerformanceEvaluations} from "../interfaces/IPerformanceEvaluations.sol";
import {ISafetyInspections} from "../interfaces/ISafetyInspections.sol";
import {IUsedBatteryTrades} from "../interfaces/IUsedBatteryTrades.sol";

/// @title UsedBatteryTrades
/// @notice Transparent records of used-battery sales between registered businesses (Fair Trade Guideline): what was
/// sold, at which grade, under which standard terms, against which price commitment; delivery, payment timeliness and
/// disputes, counted per party. It never moves custody itself: custody follows the passports' rules.
contract UsedBatteryTrades is IUsedBatteryTrades, RegistryClient {
    /// @dev Businesses that may buy and sell used batteries.
    uint32 private constant _TRADERS = (uint32(1) << uint8(IParticipantRegistry.BusinessRole.CellMaker)) |
        (uint32(1) << uint8(IParticipantRegistry.BusinessRole.EvMaker)) |
        (uint32(1) << uint8(IParticipantRegistry.BusinessRole.CollectorDismantler)) |
        (uint32(1) << uint8(IParticipantRegistry.BusinessRole.ReuseRemanufacturer)) |
        (uint32(1) << uint8(IParticipantRegistry.BusinessRole.Recycler));
    uint32 private constant _EVALUATOR = uint32(1) << uint8(IParticipantRegistry.BusinessRole.Evaluator);
    uint256 private constant _MAX_BATTERIES = 100;

    /// @notice The battery passports (custody, status, model).
    IBatteryPassports public immutable passports;
    /// @notice The performance evaluations whose counting grade a sale records.
    IPerformanceEvaluations public immutable evaluations;
    /// @notice The safety inspections that gate a sale (pre-distribution pass).
    ISafetyInspections public immutable inspections;

    TradePolicy private _policy;
    uint256 private _tradeCount;
    mapping(uint256 tradeId => Trade) private _trades;
    mapping(uint256 tradeId => bytes32[]) private _batteries;
    mapping(bytes32 batteryId => uint256 tradeId) private _pending;
    mapping(address party => PartyRecord) private _parties;
    mapping(bytes32 termsHash => bool) private _terms;
    mapping(uint256 tradeId => address respondent) private _respondent; // of the open or last dispute

    constructor(
        IParticipantRegistry registry_,
        IBatteryPassports passports_,
        IPerformanceEvaluations evaluations_,
        ISafetyInspections inspections_,
        address trustedForwarder,
        TradePolicy memory policy_
    ) RegistryClient(registry_, trustedForwarder) {
        passports = passports_;
        evaluations = evaluations_;
        inspections = inspections_;
        _setPolicy(policy_);
    }

    // ------------------------------------------------------------------------------------------------- trading

    /// @inheritdoc IUsedBatteryTrades
    function recordSale(Sale calldata sale) external returns (uint256 tradeId) {
        address seller = _participant(_TRADERS);
        registry.checkActive(sale.buyer, _TRADERS);
        if (sale.buyer == seller) revert TradeSelfTrade(seller);
        uint256 count = sale.batteries.length;
        if (count == 0 || count > _MAX_BATTERIES) revert TradeInvalidBatteryCount(count);
        if (!_terms[sale.termsHash]) revert TradeUnknownTerms(sale.termsHash);
        if (sale.dueDate < block.timestamp) revert TradeInvalidDueDate(sale.dueDate);
        if (sale.priceCommitment == bytes32(0)) revert TradeMissingPriceCommitment();
        tradeId = ++_tradeCount;
        _trades[tradeId] = Trade({
            seller: seller,
            recordedAt: uint64(block.timestamp),
            batteryCount: uint32(count),
            buyer: sale.buyer,
            dueDate: sale.dueDate,
            deliveredAt: 0,
            paidAt: 0,
            withdrawnAt: 0,
            paidLate: false,
            disputeOpen: false,
            disputes: 0,
            termsHash: sale.termsHash,
            priceCommitment: sale.priceCommitment
        });
        ++_parties[seller].sales;
        ++_parties[sale.buyer].purchases;
        emit TradeRecorded(tradeId, seller, sale.buyer, uint32(count), sale.termsHash, sale.dueDate,
            sale.priceCommitment);
        for (uint256 i = 0; i < count; ++i) {
            bytes32 batteryId = sale.batteries[i];
            bytes32 modelId = _checkSaleable(batteryId, seller);
            _pending[batteryId] = tradeId;
            IPerformanceEvaluations.Grade grade = _countingGrade(batteryId);
            _batteries[tradeId].push(batteryId);
            emit BatterySold(tradeId, batteryId, modelId, grade);
        }
    }

    /// @inheritdoc IUsedBatteryTrades
    function confirmDelivery(uint256 tradeId) external {
        (Trade storage t, address buyer) = _asBuyer(tradeId);
        _requireUndelivered(tradeId, t);
        bytes32[] storage batteries = _batteries[tradeId];
        uint256 count = batteries.length;
        for (uint256 i = 0; i < count; ++i) {
            bytes32 batteryId = batteries[i];
            address operator = passports.battery(batteryId).operator;
            if (operator != buyer) revert TradeCustodyNotMoved(tradeId, batteryId, operator);
            delete _pending[batteryId];
        }
        t.deliveredAt = uint64(block.timestamp);
        emit DeliveryConfirmed(tradeId, buyer);
    }

    /// @inheritdoc IUsedBatteryTrades
    function recordPayment(uint256 tradeId) external {
        (Trade storage t, address buyer) = _asBuyer(tradeId);
        if (t.withdrawnAt != 0) revert TradeWithdrawn(tradeId);
        if (t.paidAt != 0) revert TradeAlreadyPaid(tradeId);
        bool late = block.timestamp > t.dueDate;
        t.paidAt = uint64(block.timestamp);
        t.paidLate = late;
        if (late) ++_parties[buyer].latePayments;
        emit PaymentRecorded(tradeId, buyer, uint64(block.timestamp), late);
    }

    /// @inheritdoc IUsedBatteryTrades
    function withdrawSale(uint256 tradeId) external {
        Trade storage t = _trade(tradeId);
        address seller = _participant(_TRADERS);
        if (t.seller != seller) revert TradeNotSeller(tradeId, seller);
        _requireUndelivered(tradeId, t);
        if (t.disputeOpen) revert TradeDisputeAlreadyOpen(tradeId);
        if (t.paidAt != 0) revert TradeAlreadyPaid(tradeId);
        bytes32[] storage batteries = _batteries[tradeId];
        uint256 count = batteries.length;
        for (uint256 i = 0; i < count; ++i) {
            delete _pending[batteries[i]];
        }
        t.withdrawnAt = uint64(block.timestamp);
        emit SaleWithdrawn(tradeId, seller);
    }

    // ------------------------------------------------------------------------------------------------ disputes

    /// @inheritdoc IUsedBatteryTrades
    function openDispute(uint256 tradeId, bytes32 reasonHash) external {
        Trade storage t = _trade(tradeId);
        address by = _participant(_TRADERS);
        address against = address(0);
        if (by == t.seller) against = t.buyer;
        else if (by == t.buyer) against = t.seller;
        else revert TradeNotParty(tradeId, by);
        if (reasonHash == bytes32(0)) revert TradeMissingReason();
        if (t.disputeOpen) revert TradeDisputeAlreadyOpen(tradeId);
        t.disputeOpen = true;
        ++t.disputes;
        _respondent[tradeId] = against;
        ++_parties[by].disputesOpened;
        ++_parties[against].disputesAgainst;
        emit DisputeOpened(tradeId, by, against, reasonHash);
    }

    /// @inheritdoc IUsedBatteryTrades
    function closeDispute(uint256 tradeId, bool upheld, bytes32 resolutionHash) external {
        address authority = _authority(_policy.tradeAuthority);
        Trade storage t = _trade(tradeId);
        if (!t.disputeOpen) revert TradeNoOpenDispute(tradeId);
        if (resolutionHash == bytes32(0)) revert TradeMissingReason();
        t.disputeOpen = false;
        address against = _respondent[tradeId];
        if (upheld) ++_parties[against].disputesUpheldAgainst;
        emit DisputeClosed(tradeId, authority, against, upheld, resolutionHash);
    }

    // -------------------------------------------------------------------------------------------------- policy

    /// @inheritdoc IUsedBatteryTrades
    function setStandardTerms(bytes32 termsHash, bool published) external {
        _authority(_policy.tradeAuthority);
        if (termsHash == bytes32(0)) revert TradeUnknownTerms(termsHash);
        _terms[termsHash] = published;
        emit StandardTermsSet(termsHash, published);
    }

    /// @inheritdoc IUsedBatteryTrades
    function setPolicy(TradePolicy calldata policy_) external {
        _authority(0x00);
        _setPolicy(policy_);
    }

    // --------------------------------------------------------------------------------------------------- views

    /// @inheritdoc IUsedBatteryTrades
    function trade(uint256 tradeId) external view returns (Trade memory) {
        return _trades[tradeId];
    }

    /// @inheritdoc IUsedBatteryTrades
    function tradeBatteries(uint256 tradeId) external view returns (bytes32[] memory) {
        return _batteries[tradeId];
    }

    /// @inheritdoc IUsedBatteryTrades
    function tradeCount() external view returns (uint256) {
        return _tradeCount;
    }

    /// @inheritdoc IUsedBatteryTrades
    function partyRecord(address party) external view returns (PartyRecord memory) {
        return _parties[party];
    }

    /// @inheritdoc IUsedBatteryTrades
    function pendingTradeOf(bytes32 batteryId) external view returns (uint256) {
        return _pending[batteryId];
    }

    /// @inheritdoc IUsedBatteryTrades
    function isStandardTerms(bytes32 termsHash) external view returns (bool) {
        return _terms[termsHash];
    }

    /// @inheritdoc IUsedBatteryTrades
    function policy() external view returns (TradePolicy memory) {
        return _policy;
    }

    // ------------------------------------------------------------------------------------------------ internal

    /// @dev Checks that `batteryId` may be sold by `seller` now and returns its model.
    function _checkSaleable(bytes32 batteryId, address seller) private view returns (bytes32 modelId) {
        IBatteryPassports.Battery memory b = passports.battery(batteryId);
        IBatteryPassports.BatteryStatus s = b.status;
        if (s == IBatteryPassports.BatteryStatus.None) revert TradeUnknownBattery(batteryId);
        if (b.operator != seller) revert TradeNotHolder(batteryId, seller, b.operator);
        bool used = s == IBatteryPassports.BatteryStatus.Removed || s == IBatteryPassports.BatteryStatus.Reused ||
            s == IBatteryPassports.BatteryStatus.Repurposed || s == IBatteryPassports.BatteryStatus.Remanufactured;
        if (!used || b.closed) revert TradeNotUsedBattery(batteryId, s);
        uint256 pending = _pending[batteryId];
        if (pending != 0) revert TradeBatteryPending(batteryId, pending);
        inspections.checkValid(batteryId, ISafetyInspections.Kind.PreDistribution);
        return b.modelId;
    }

    /// @dev The grade of the battery's evaluation if it counts now (evaluator active, device not revoked), else None.
    function _countingGrade(bytes32 batteryId) private view returns (IPerformanceEvaluations.Grade) {
        IPerformanceEvaluations.Evaluation memory e = evaluations.evaluation(batteryId);
        if (e.grade == IPerformanceEvaluations.Grade.None) return e.grade;
        (address deviceEvaluator, bool revoked) = evaluations.deviceOf(e.device);
        if (revoked || deviceEvaluator != e.evaluator || !registry.isActive(e.evaluator, _EVALUATOR)) {
            return IPerformanceEvaluations.Grade.None;
        }
        return e.grade;
    }

    function _trade(uint256 tradeId) private view returns (Trade storage t) {
        t = _trades[tradeId];
        if (t.seller == address(0)) revert TradeUnknownTrade(tradeId);
    }

    function _asBuyer(uint256 tradeId) private view returns (Trade storage t, address buyer) {
        t = _trade(tradeId);
        buyer = _participant(_TRADERS);
        if (t.buyer != buyer) revert TradeNotBuyer(tradeId, buyer);
    }

    function _requireUndelivered(uint256 tradeId, Trade storage t) private view {
        if (t.withdrawnAt != 0) revert TradeWithdrawn(tradeId);
        if (t.deliveredAt != 0) revert TradeAlreadyDelivered(tradeId);
    }

    function _setPolicy(TradePolicy memory p) private {
        if (p.minIndexTrades == 0 || p.priceDeviationBps == 0 || p.tradeAuthority == bytes32(0)) {
            revert TradeInvalidPolicy();
        }
        _policy = p;
        emit TradePolicySet(p);
    }
}

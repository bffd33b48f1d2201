// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IBatteryPassports} from "./IBatteryPassports.sol";
import {IPerformanceEvaluations} from "./IPerformanceEvaluations.sol";

/// @title Used-battery trades under the Fair Trade Guideline.
/// @notice A seller (an active business holding the batteries) records the sale of used batteries (removed from
/// their vehicle or living a second life, each with a valid pre-distribution inspection) to an active buyer: the
/// batteries and the grade of each one's counting evaluation at the time of sale, the version hash of the standard
/// contract terms (published by the trade authority), the payment due date and a commitment to the agreed price
/// `keccak256(abi.encode(uint256 price, string currency, bytes32 salt))`; price and salt stay off-chain in the
/// authority tier. Custody moves through the passports' own custody rule (the seller's `transferCustody`, with its
/// inspection gate); the buyer then confirms delivery and records payment (late after the due date); either party
/// opens a dispute with a reason hash and the trade authority closes it. The policy (k of the price index, the
/// price deviation flagged, which authority is the trade authority) is governance's. Disputes are counted per party.
interface IUsedBatteryTrades {
    /// @notice A trade as stored. A battery is part of at most one undelivered, unwithdrawn trade at a time.
    struct Trade {
        address seller;
        uint64 recordedAt;
        uint32 batteryCount;
        address buyer;
        uint64 dueDate; // payment due (unix seconds)
        uint64 deliveredAt; // 0 until the buyer confirms delivery
        uint64 paidAt; // 0 until the buyer records payment
        uint64 withdrawnAt; // 0 unless the seller withdrew the sale before delivery
        bool paidLate; // payment recorded after the due date
        bool disputeOpen;
        uint16 disputes; // disputes opened on this trade so far
        bytes32 termsHash; // version hash of the standard contract terms used
        bytes32 priceCommitment; // keccak256(abi.encode(price, currency, salt))
    }

    /// @notice What a seller records.
    struct Sale {
        address buyer;
        bytes32[] batteries; // passport ids (1 to 100)
        bytes32 termsHash;
        uint64 dueDate;
        bytes32 priceCommitment;
    }

    /// @notice Governed trade parameters.
    struct TradePolicy {
        uint16 minIndexTrades; // k: a price-index cell is published only with at least this many trades (default 5)
        uint16 priceDeviationBps; // a price this far from its index cell is flagged to the authority (default 3000)
        bytes32 tradeAuthority; // the registry role that publishes the standard terms and closes disputes (MOTIE)
    }

    /// @notice Counters per party, on-chain.
    struct PartyRecord {
        uint32 sales;
        uint32 purchases;
        uint32 latePayments; // payments this party recorded after the due date (as buyer)
        uint32 disputesOpened; // disputes this party opened
        uint32 disputesAgainst; // disputes opened against this party
        uint32 disputesUpheldAgainst; // of those, closed as founded by the authority
    }

    error TradeUnknownTrade(uint256 tradeId);
    /// @dev A sale of 0 or more than 100 batteries.
    error TradeInvalidBatteryCount(uint256 count);
    error TradeSelfTrade(address party);
    error TradeUnknownBattery(bytes32 batteryId);
    /// @dev The battery is operated by `operator`, not by the seller.
    error TradeNotHolder(bytes32 batteryId, address seller, address operator);
    /// @dev Only a used battery (Removed, Reused, Repurposed or Remanufactured, passport open) is traded here.
    error TradeNotUsedBattery(bytes32 batteryId, IBatteryPassports.BatteryStatus status);
    /// @dev The battery is already part of undelivered trade `tradeId`.
    error TradeBatteryPending(bytes32 batteryId, uint256 tradeId);
    /// @dev `termsHash` is not a published version of the standard contract terms.
    error TradeUnknownTerms(bytes32 termsHash);
    error TradeInvalidDueDate(uint64 dueDate);
    error TradeMissingPriceCommitment();
    error TradeNotBuyer(uint256 tradeId, address caller);
    error TradeNotSeller(uint256 tradeId, address caller);
    error TradeNotParty(uint256 tradeId, address caller);
    /// @dev Delivery is confirmed only once custody of every battery moved to the buyer.
    error TradeCustodyNotMoved(uint256 tradeId, bytes32 batteryId, address operator);
    error TradeAlreadyDelivered(uint256 tradeId);
    error TradeAlreadyPaid(uint256 tradeId);
    error TradeWithdrawn(uint256 tradeId);
    error TradeDisputeAlreadyOpen(uint256 tradeId);
    error TradeNoOpenDispute(uint256 tradeId);
    error TradeMissingReason();
    error TradeInvalidPolicy();

    /// @notice Emitted when a seller records a sale.
    event TradeRecorded(uint256 indexed tradeId, address indexed seller, address indexed buyer, uint32 batteryCount,
        bytes32 termsHash, uint64 dueDate, bytes32 priceCommitment);
    /// @notice One battery of a recorded sale, with the grade of its counting evaluation then (None if it has none).
    event BatterySold(uint256 indexed tradeId, bytes32 indexed batteryId, bytes32 modelId,
        IPerformanceEvaluations.Grade grade);
    event DeliveryConfirmed(uint256 indexed tradeId, address indexed buyer);
    event PaymentRecorded(uint256 indexed tradeId, address indexed buyer, uint64 paidAt, bool late);
    event SaleWithdrawn(uint256 indexed tradeId, address indexed seller);
    event DisputeOpened(uint256 indexed tradeId, address indexed by, address indexed against, bytes32 reasonHash);
    event DisputeClosed(uint256 indexed tradeId, address indexed authority, address indexed against, bool upheld,
        bytes32 resolutionHash);
    event StandardTermsSet(bytes32 indexed termsHash, bool published);
    event TradePolicySet(TradePolicy policy);

    /// @notice Records a sale. Caller: the seller, an active trading business (cell maker, EV maker,
    /// collector/dismantler, reuse/remanufacturer or recycler) operating every battery; the buyer must be one too.
    function recordSale(Sale calldata sale) external returns (uint256 tradeId);

    /// @notice Confirms delivery once custody of every battery moved to the buyer (through
    /// `IBatteryPassports.transferCustody`). Caller: the buyer.
    function confirmDelivery(uint256 tradeId) external;

    /// @notice Records that the buyer paid; late if after the due date. Caller: the buyer.
    function recordPayment(uint256 tradeId) external;

    /// @notice Withdraws an undelivered sale without an open dispute, freeing its batteries. Caller: the seller.
    function withdrawSale(uint256 tradeId) external;

    /// @notice Opens a dispute against the other party. Caller: the seller or the buyer.
    function openDispute(uint256 tradeId, bytes32 reasonHash) external;

    /// @notice Closes the open dispute, founded (`upheld`) or not. Caller: the trade authority of the policy.
    function closeDispute(uint256 tradeId, bool upheld, bytes32 resolutionHash) external;

    /// @notice Publishes or withdraws a version of the standard contract terms. Caller: the trade authority.
    function setStandardTerms(bytes32 termsHash, bool published) external;

    /// @notice Sets the trade policy. Caller: governance.
    function setPolicy(TradePolicy calldata policy) external;

    function trade(uint256 tradeId) external view returns (Trade memory);

    /// @notice The batteries of a trade (the grade each had at the time of sale is in its {BatterySold} event).
    function tradeBatteries(uint256 tradeId) external view returns (bytes32[] memory);

    function tradeCount() external view returns (uint256);

    function partyRecord(address party) external view returns (PartyRecord memory);

    /// @notice The undelivered trade a battery is part of (0 if none).
    function pendingTradeOf(bytes32 batteryId) external view returns (uint256);

    function isStandardTerms(bytes32 termsHash) external view returns (bool);

    function policy() external view returns (TradePolicy memory);
}

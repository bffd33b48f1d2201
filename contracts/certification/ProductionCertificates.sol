// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {RegistryClient} from "../common/RegistryClient.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {IProductionCertificates} from "../interfaces/IProductionCertificates.sol";
import {Authorities} from "../registry/Authorities.sol";

/// @title ProductionCertificates
/// @notice Production certificates of recycled material, per lot, and the certified quantities that move with
/// shipments until a usage claim consumes them. A gram can be consumed once only.
contract ProductionCertificates is IProductionCertificates, RegistryClient {
    uint32 private constant _HOLDERS =
        (uint32(1) << uint8(IParticipantRegistry.BusinessRole.Recycler)) |
            (uint32(1) << uint8(IParticipantRegistry.BusinessRole.MaterialProcessor)) |
            (uint32(1) << uint8(IParticipantRegistry.BusinessRole.CellMaker));

    uint256 private _lotCount;
    mapping(uint256 lotId => Lot) private _lots;
    mapping(uint256 lotId => mapping(address holder => uint256)) private _balances;
    mapping(address consumer => bool) private _consumers;
    /// @dev keccak256(abi.encode(consumer, claimId, lotId, holder)) => grams consumed and not released.
    mapping(bytes32 key => uint128 grams) private _consumed;

    constructor(IParticipantRegistry registry_, address trustedForwarder) RegistryClient(registry_, trustedForwarder) {}

    /// @inheritdoc IProductionCertificates
    function applyForLot(LotApplication calldata app) external returns (uint256 lotId) {
        address recycler = _participant(_role(IParticipantRegistry.BusinessRole.Recycler));
        if (app.massGrams == 0) revert CertificatesZeroQuantity();
        if (app.massGrams > type(uint96).max) revert CertificatesMassTooLarge(app.massGrams);
        if (app.periodEnd < app.periodStart || app.periodEnd > block.timestamp) {
            revert CertificatesInvalidPeriod(app.periodStart, app.periodEnd);
        }
        registry.checkFacility(app.facilityId, recycler, app.periodStart, app.periodEnd);
        lotId = ++_lotCount;
        bytes32 applicationHash = keccak256(abi.encode(app));
        _lots[lotId] = Lot({
            recycler: recycler,
            massGrams: uint96(app.massGrams), // checked above
            material: app.material,
            feedstock: app.feedstock,
            status: LotStatus.Pending,
            periodEnd: uint40(app.periodEnd), // at most block.timestamp (checked above), so it fits
            appliedAt: uint40(block.timestamp),
            decidedAt: 0,
            applicationHash: applicationHash
        });
        emit LotApplied(lotId, recycler, app, applicationHash);
    }

    /// @inheritdoc IProductionCertificates
    function certifyLot(uint256 lotId) external {
        _authority(Authorities.MOE);
        Lot storage l = _lotIn(lotId, LotStatus.Pending);
        address recycler = l.recycler;
        registry.checkActive(recycler, _role(IParticipantRegistry.BusinessRole.Recycler));
        l.status = LotStatus.Certified;
        l.decidedAt = uint40(block.timestamp);
        uint128 mass = l.massGrams;
        _balances[lotId][recycler] = mass;
        emit LotCertified(lotId, recycler, l.material, mass);
    }

    /// @inheritdoc IProductionCertificates
    function rejectLot(uint256 lotId, bytes32 reasonHash) external {
        _authority(Authorities.MOE);
        Lot storage l = _lotIn(lotId, LotStatus.Pending);
        l.status = LotStatus.Rejected;
        l.decidedAt = uint40(block.timestamp);
        emit LotRejected(lotId, reasonHash);
    }

    /// @inheritdoc IProductionCertificates
    function revokeLot(uint256 lotId, bytes32 reasonHash) external {
        _authority(Authorities.MOE);
        Lot storage l = _lotIn(lotId, LotStatus.Certified);
        l.status = LotStatus.Revoked;
        l.decidedAt = uint40(block.timestamp);
        emit LotRevoked(lotId, reasonHash);
    }

    /// @inheritdoc IProductionCertificates
    function transfer(uint256 lotId, address to, uint128 grams, bytes32 shipmentRef) external {
        address from = _participant(_HOLDERS);
        registry.checkActive(to, _HOLDERS);
        if (to == from) revert CertificatesSelfTransfer(from);
        if (shipmentRef == bytes32(0)) revert CertificatesMissingShipmentRef();
        _lotIn(lotId, LotStatus.Certified);
        _debit(lotId, from, grams);
        unchecked {
            // Cannot overflow: the sum of all balances of a lot never exceeds its uint128 mass.
            _balances[lotId][to] += grams;
        }
        emit QuantityTransferred(lotId, from, to, grams, shipmentRef);
    }

    /// @inheritdoc IProductionCertificates
    function consume(uint256 lotId, address holder, uint128 grams, uint256 claimId) external {
        _onlyConsumer();
        _lotIn(lotId, LotStatus.Certified);
        _debit(lotId, holder, grams);
        unchecked {
            // Cannot overflow: consumption of a lot never exceeds its uint128 mass.
            _consumed[_consumptionKey(msg.sender, claimId, lotId, holder)] += grams;
        }
        emit QuantityConsumed(lotId, holder, claimId, grams);
    }

    /// @inheritdoc IProductionCertificates
    function release(uint256 lotId, address holder, uint128 grams, uint256 claimId) external {
        _onlyConsumer();
        if (_lots[lotId].status == LotStatus.None) revert CertificatesUnknownLot(lotId);
        bytes32 key = _consumptionKey(msg.sender, claimId, lotId, holder);
        uint128 open = _consumed[key];
        if (grams == 0 || grams > open) revert CertificatesReleaseExceedsConsumed(lotId, holder, claimId, open, grams);
        unchecked {
            _consumed[key] = open - grams;
        }
        _balances[lotId][holder] += grams;
        emit QuantityReleased(lotId, holder, claimId, grams);
    }

    /// @inheritdoc IProductionCertificates
    function setConsumer(address consumer, bool authorised) external {
        _authority(0x00); // governance: DEFAULT_ADMIN_ROLE of the registry
        if (consumer == address(0)) revert CertificatesZeroAddress();
        _consumers[consumer] = authorised;
        emit ConsumerSet(consumer, authorised);
    }

    /// @inheritdoc IProductionCertificates
    function lot(uint256 lotId) external view returns (Lot memory) {
        return _lots[lotId];
    }

    /// @inheritdoc IProductionCertificates
    function lotTerms(uint256 lotId) external view returns (LotTerms memory) {
        Lot storage l = _lots[lotId];
        return LotTerms(l.status, l.material, l.feedstock, l.periodEnd); // one slot
    }

    /// @inheritdoc IProductionCertificates
    function consumed(address consumer, uint256 claimId, uint256 lotId, address holder) external view returns (uint256) {
        return _consumed[_consumptionKey(consumer, claimId, lotId, holder)];
    }

    /// @inheritdoc IProductionCertificates
    function balanceOf(uint256 lotId, address holder) external view returns (uint256) {
        return _balances[lotId][holder];
    }

    /// @inheritdoc IProductionCertificates
    function lotCount() external view returns (uint256) {
        return _lotCount;
    }

    /// @inheritdoc IProductionCertificates
    function isConsumer(address consumer) external view returns (bool) {
        return _consumers[consumer];
    }

    function _lotIn(uint256 lotId, LotStatus expected) private view returns (Lot storage l) {
        l = _lots[lotId];
        LotStatus status = l.status;
        if (status == LotStatus.None) revert CertificatesUnknownLot(lotId);
        if (status != expected) revert CertificatesInvalidLotStatus(lotId, status);
    }

    function _debit(uint256 lotId, address holder, uint128 grams) private {
        if (grams == 0) revert CertificatesZeroQuantity();
        uint256 balance = _balances[lotId][holder];
        if (balance < grams) revert CertificatesInsufficientBalance(lotId, holder, balance, grams);
        unchecked {
            _balances[lotId][holder] = balance - grams;
        }
    }

    function _consumptionKey(address consumer, uint256 claimId, uint256 lotId, address holder)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(consumer, claimId, lotId, holder));
    }

    function _onlyConsumer() private view {
        if (!_consumers[msg.sender]) revert CertificatesUnauthorizedConsumer(msg.sender);
    }
}

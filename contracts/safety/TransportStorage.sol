// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BPS} from "../common/Materials.sol";
import {RegistryClient} from "../common/RegistryClient.sol";
import {IBatteryPassports} from "../interfaces/IBatteryPassports.sol";
import {IParticipantRegistry} from "../interfaces/IParticipantRegistry.sol";
import {ITransportStorage} from "../interfaces/ITransportStorage.sol";

/// @title TransportStorage
/// @notice Shipment legs within the state-of-charge limit, and storage sites within their permitted capacity.
contract TransportStorage is ITransportStorage, RegistryClient {
    uint32 private constant _TRANSPORTER = uint32(1) << uint8(IParticipantRegistry.BusinessRole.Transporter);
    uint32 private constant _STORAGE = uint32(1) << uint8(IParticipantRegistry.BusinessRole.StorageOperator);
    uint32 private constant _ANY = type(uint32).max;

    /// @notice The battery record whose batteries are shipped and stored.
    IBatteryPassports public immutable passports;

    uint16 private _maxSocBps;
    mapping(bytes32 siteId => Site) private _sites;
    mapping(bytes32 siteId => mapping(bytes32 batteryId => uint64 energyWh)) private _stored;
    mapping(bytes32 batteryId => bytes32 siteId) private _siteOf;
    mapping(bytes32 batteryId => address to) private _deliveredTo;

    constructor(IParticipantRegistry registry_, IBatteryPassports passports_, address trustedForwarder, uint16 maxSocBps_)
        RegistryClient(registry_, trustedForwarder)
    {
        passports = passports_;
        _setMaxSoc(maxSocBps_);
    }

    /// @inheritdoc ITransportStorage
    function setMaxStateOfCharge(uint16 maxSocBps_) external {
        _authority(0x00); // governance: the policy committee's timelock
        _setMaxSoc(maxSocBps_);
    }

    /// @inheritdoc ITransportStorage
    function recordShipmentLeg(
        bytes32 batteryId,
        address from,
        address to,
        uint16 socBps,
        uint16 packagingClass,
        bytes32 evidenceHash
    ) external {
        address transporter = _participant(_TRANSPORTER);
        registry.checkActive(from, _ANY);
        registry.checkActive(to, _ANY);
        if (socBps > _maxSocBps) revert TransportStateOfChargeTooHigh(socBps, _maxSocBps);
        address custodian = _openBattery(batteryId).operator;
        if (custodian != from && custodian != to && custodian != transporter) {
            revert TransportNotCustodian(batteryId, custodian);
        }
        _deliveredTo[batteryId] = to;
        emit ShipmentLegRecorded(batteryId, transporter, from, to, socBps, packagingClass, evidenceHash);
    }

    /// @inheritdoc ITransportStorage
    function registerSite(bytes32 siteId, uint64 capacityWh, bytes32 permitHash) external {
        address operator = _participant(_STORAGE);
        if (_sites[siteId].operator != address(0)) revert StorageSiteExists(siteId);
        if (capacityWh == 0) revert StorageZeroEnergy();
        _sites[siteId] = Site(operator, capacityWh, 0, permitHash);
        emit SiteRegistered(siteId, operator, capacityWh, permitHash);
    }

    /// @inheritdoc ITransportStorage
    function intake(bytes32 siteId, bytes32 batteryId, uint64 energyWh) external {
        Site storage s = _operatedSite(siteId);
        if (energyWh == 0) revert StorageZeroEnergy();
        bytes32 current = _siteOf[batteryId];
        if (current != bytes32(0)) revert StorageAlreadyStored(batteryId, current);
        address custodian = _openBattery(batteryId).operator;
        if (custodian != s.operator && _deliveredTo[batteryId] != s.operator) {
            revert StorageNotCustodian(batteryId, s.operator, custodian);
        }
        if (s.storedWh + energyWh > s.capacityWh) {
            revert StorageCapacityExceeded(siteId, s.capacityWh, s.storedWh, energyWh);
        }
        s.storedWh += energyWh;
        _stored[siteId][batteryId] = energyWh;
        _siteOf[batteryId] = siteId;
        emit BatteryStored(siteId, batteryId, energyWh, s.storedWh);
    }

    /// @inheritdoc ITransportStorage
    function release(bytes32 siteId, bytes32 batteryId) external {
        Site storage s = _operatedSite(siteId);
        uint64 energy = _stored[siteId][batteryId];
        if (energy == 0) revert StorageNotStored(batteryId, siteId);
        s.storedWh -= energy;
        delete _stored[siteId][batteryId];
        delete _siteOf[batteryId];
        emit BatteryReleased(siteId, batteryId, energy, s.storedWh);
    }

    /// @inheritdoc ITransportStorage
    function site(bytes32 siteId) external view returns (Site memory) {
        return _sites[siteId];
    }

    /// @inheritdoc ITransportStorage
    function maxStateOfChargeBps() external view returns (uint16) {
        return _maxSocBps;
    }

    /// @inheritdoc ITransportStorage
    function siteOf(bytes32 batteryId) external view returns (bytes32) {
        return _siteOf[batteryId];
    }

    /// @inheritdoc ITransportStorage
    function storedEnergy(bytes32 siteId, bytes32 batteryId) external view returns (uint64) {
        return _stored[siteId][batteryId];
    }

    function _operatedSite(bytes32 siteId) private view returns (Site storage s) {
        address caller = _participant(_STORAGE);
        s = _sites[siteId];
        if (s.operator == address(0)) revert StorageUnknownSite(siteId);
        if (s.operator != caller) revert StorageNotSiteOperator(siteId, caller);
    }

    function _openBattery(bytes32 batteryId) private view returns (IBatteryPassports.Battery memory b) {
        b = passports.battery(batteryId);
        if (b.status == IBatteryPassports.BatteryStatus.None || b.closed) revert TransportUnknownBattery(batteryId);
    }

    function _setMaxSoc(uint16 maxSocBps_) private {
        if (maxSocBps_ == 0 || maxSocBps_ > BPS) revert TransportInvalidPolicy(maxSocBps_);
        _maxSocBps = maxSocBps_;
        emit TransportPolicySet(maxSocBps_);
    }
}

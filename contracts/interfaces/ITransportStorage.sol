// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Transport and storage of used batteries under the safety standards.
/// @notice Registered transporters record shipment legs of registered batteries for their custodian; dispatch above
/// the policy's state-of-charge limit is refused. Storage operators register sites with a permitted capacity and take
/// in batteries they hold or that a shipment leg delivered to them; intake beyond capacity is refused, release frees
/// it, and a battery is stored at one site at a time.
interface ITransportStorage {
    struct Site {
        address operator;
        uint64 capacityWh;
        uint64 storedWh;
        bytes32 permitHash;
    }

    error TransportStateOfChargeTooHigh(uint16 socBps, uint16 maxSocBps);
    error TransportInvalidPolicy(uint16 maxSocBps);
    error StorageSiteExists(bytes32 siteId);
    error StorageUnknownSite(bytes32 siteId);
    error StorageNotSiteOperator(bytes32 siteId, address caller);
    error StorageCapacityExceeded(bytes32 siteId, uint64 capacityWh, uint64 storedWh, uint64 intakeWh);
    error StorageAlreadyStored(bytes32 batteryId, bytes32 siteId);
    error StorageNotStored(bytes32 batteryId, bytes32 siteId);
    error StorageZeroEnergy();
    /// @dev `batteryId` has no passport, or its passport is closed (recycled or replaced by a second life).
    error TransportUnknownBattery(bytes32 batteryId);
    /// @dev Neither end of the leg (nor the transporter) is the battery's custodian `operator`.
    error TransportNotCustodian(bytes32 batteryId, address operator);
    /// @dev The site's operator neither holds the battery nor received it by the battery's last shipment leg.
    error StorageNotCustodian(bytes32 batteryId, address siteOperator, address custodian);

    event TransportPolicySet(uint16 maxSocBps);
    event ShipmentLegRecorded(
        bytes32 indexed batteryId,
        address indexed transporter,
        address from,
        address to,
        uint16 socBps,
        uint16 packagingClass,
        bytes32 evidenceHash
    );
    event SiteRegistered(bytes32 indexed siteId, address indexed operator, uint64 capacityWh, bytes32 permitHash);
    event BatteryStored(bytes32 indexed siteId, bytes32 indexed batteryId, uint64 energyWh, uint64 storedWh);
    event BatteryReleased(bytes32 indexed siteId, bytes32 indexed batteryId, uint64 energyWh, uint64 storedWh);

    /// @notice Sets the maximum state of charge at dispatch (basis points). Caller: governance (policy committee).
    function setMaxStateOfCharge(uint16 maxSocBps) external;

    /// @notice Records a shipment leg of a registered, open battery between two active participants, one of which
    /// (or the transporter) is the battery's custodian. Caller: an active transporter.
    function recordShipmentLeg(
        bytes32 batteryId,
        address from,
        address to,
        uint16 socBps,
        uint16 packagingClass,
        bytes32 evidenceHash
    ) external;

    /// @notice Registers a storage site with its permitted capacity. Caller: an active storage operator.
    function registerSite(bytes32 siteId, uint64 capacityWh, bytes32 permitHash) external;

    /// @notice Takes a battery of `energyWh` into a site. The battery must be held by the site's operator or have
    /// been delivered to it by its last shipment leg, and be stored nowhere else. Caller: the site's operator.
    function intake(bytes32 siteId, bytes32 batteryId, uint64 energyWh) external;

    /// @notice Releases a stored battery, freeing its energy. Caller: the site's operator.
    function release(bytes32 siteId, bytes32 batteryId) external;

    function site(bytes32 siteId) external view returns (Site memory);

    function maxStateOfChargeBps() external view returns (uint16);

    /// @notice The site where `batteryId` is stored (zero if none).
    function siteOf(bytes32 batteryId) external view returns (bytes32);

    /// @notice Energy of `batteryId` stored at `siteId` (0 if not stored there).
    function storedEnergy(bytes32 siteId, bytes32 batteryId) external view returns (uint64);
}

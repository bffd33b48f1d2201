// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MATERIAL_COUNT} from "../common/Materials.sol";

/// @title Recycling efficiency and material recovery (EU 2023/1542 Article 71 and Annex XII).
/// @notice A recycler declares, per reporting period and chemistry class, the mass of waste batteries it took in and
/// the output: the mass of the recycled output fractions and, per metal, the mass contained in the input and the mass
/// recovered. The declaration lists the passports the recycler marked recycled in the period (each Recycled, linked
/// to a certified lot of this recycler, its last record inside the period) and the recycler's certified post-consumer
/// lots (made from waste batteries) whose production period ended in the period; the output of a metal may not be below the certified mass of those lots.
/// The recycling efficiency and the recovery rate per metal are computed here in basis points (floored) and compared
/// with the targets held as governed data. MoE attests or rejects a declaration, like a lot; a rejected declaration
/// frees its batteries and lots for a corrected one.
interface IRecyclingEfficiency {
    /// @notice Annex XII Part B distinguishes lead-acid, lithium-based and other waste batteries. Append only.
    enum ChemistryClass {
        LithiumBased,
        LeadAcid,
        Other
    }

    enum DeclarationStatus {
        None,
        Pending,
        Attested,
        Rejected
    }

    /// @notice What a recycler declares for one period and chemistry class. Masses are integer grams.
    struct PeriodDeclaration {
        ChemistryClass chemistry;
        uint64 periodStart; // unix seconds
        uint64 periodEnd; // must have ended
        uint128 inputMassGrams; // waste batteries entering the recycling process (Annex XII Part A)
        uint128 outputMassGrams; // output fractions that count as recycled
        uint128[MATERIAL_COUNT] inputMetalGrams; // metal contained in the input, indexed by Material
        uint128[MATERIAL_COUNT] recoveredMetalGrams; // metal recovered, indexed by Material
        bytes32[] batteries; // passports the recycler marked recycled in the period
        uint256[] lots; // the recycler's certified post-consumer lots whose production period ended in the period
        bytes32 evidenceHash; // hash of the off-chain report (mass balance, scales, assays)
    }

    /// @notice A declaration as stored; the full input is in {DeclarationSubmitted} and bound by `declarationHash`.
    struct Declaration {
        address recycler;
        ChemistryClass chemistry;
        DeclarationStatus status;
        uint8 metals; // bitmask of the metals with input (recovery targets apply to these)
        uint16 efficiencyBps; // outputMass / inputMass
        uint64 periodStart;
        uint64 periodEnd;
        uint64 submittedAt;
        uint64 decidedAt;
        uint16[MATERIAL_COUNT] recoveryBps; // recovered / contained, per metal (0 where nothing was contained)
        bytes32 declarationHash; // keccak256(abi.encode(PeriodDeclaration))
    }

    /// @notice Targets from a date on: recycling efficiency per chemistry class and material recovery per metal,
    /// in basis points (0: no target).
    struct Milestone {
        uint64 effectiveFrom; // 0 for an unknown milestone
        uint16[3] efficiencyBps; // indexed by ChemistryClass
        uint16[MATERIAL_COUNT] recoveryBps; // indexed by Material
    }

    /// @notice A declaration measured against a milestone.
    struct Assessment {
        uint16 year; // the milestone (0: none in force at the end of the period)
        uint16 efficiencyTargetBps;
        bool meetsEfficiency;
        uint16[MATERIAL_COUNT] recoveryTargetBps;
        bool meetsRecovery; // every metal with input reaches its target
    }

    error RecyclingUnknownDeclaration(uint256 declarationId);
    error RecyclingInvalidStatus(uint256 declarationId, DeclarationStatus status);
    error RecyclingInvalidPeriod(uint64 periodStart, uint64 periodEnd);
    /// @dev An input of zero, or an output above the input (in total, per metal, or metals above the total output).
    error RecyclingImpossibleMass(uint256 material, uint256 input, uint256 output);
    error RecyclingNoBatteries();
    /// @dev The passport is not Recycled by this recycler into one of its certified lots.
    error RecyclingNotRecycledBy(bytes32 batteryId, address recycler);
    /// @dev The passport's recycling was recorded at `recycledAt`, outside the period.
    error RecyclingBatteryOutsidePeriod(bytes32 batteryId, uint64 recycledAt);
    /// @dev The passport is already in declaration `declarationId` (pending or attested).
    error RecyclingBatteryDeclared(bytes32 batteryId, uint256 declarationId);
    /// @dev The lot is not a certified post-consumer lot (made from waste batteries) of this recycler whose production
    /// period ended in the declared period.
    error RecyclingLotMismatch(uint256 lotId, address recycler);
    error RecyclingLotDeclared(uint256 lotId, uint256 declarationId);
    /// @dev The declared recovery of `material` is below the certified mass of the period's lots.
    error RecyclingOutputBelowCertified(uint256 material, uint256 recoveredGrams, uint256 certifiedGrams);
    error RecyclingUnknownMilestone(uint16 year);
    error RecyclingInvalidMilestone(uint16 year);

    event DeclarationSubmitted(uint256 indexed declarationId, address indexed recycler, PeriodDeclaration declaration,
        uint16 efficiencyBps, uint16[MATERIAL_COUNT] recoveryBps, bytes32 declarationHash);
    event DeclarationAttested(uint256 indexed declarationId, address indexed authority);
    event DeclarationRejected(uint256 indexed declarationId, address indexed authority, bytes32 reasonHash);
    event RecyclingTargetsSet(uint16 indexed year, Milestone milestone);

    /// @notice Declares a period. Caller: an active recycler.
    function declare(PeriodDeclaration calldata declaration) external returns (uint256 declarationId);

    /// @notice Attests a pending declaration of an active recycler. Caller: MoE.
    function attest(uint256 declarationId) external;

    /// @notice Rejects a pending declaration; its batteries and lots may be declared again. Caller: MoE.
    function reject(uint256 declarationId, bytes32 reasonHash) external;

    /// @notice Sets the targets of milestone `year`. Caller: governance.
    function setTargets(uint16 year, Milestone calldata milestone) external;

    function declaration(uint256 declarationId) external view returns (Declaration memory);

    function declarationCount() external view returns (uint256);

    function milestone(uint16 year) external view returns (Milestone memory);

    function milestoneYears() external view returns (uint16[] memory);

    /// @notice The latest milestone (by effective date) in force at `time` (0 if none).
    function milestoneAt(uint64 time) external view returns (uint16 year);

    /// @notice The declaration measured against milestone `year`, or (year 0) the one in force at its period's end.
    function assess(uint256 declarationId, uint16 year) external view returns (Assessment memory);

    /// @notice The declaration (pending or attested) that lists a passport, or a lot (0 if none).
    function declarationOfBattery(bytes32 batteryId) external view returns (uint256);

    function declarationOfLot(uint256 lotId) external view returns (uint256);
}

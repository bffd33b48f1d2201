"""The rule changes the policy committee decides, each built as the one call its timelock will make.

Every setter named here is gated by governance on-chain (the registry's ``DEFAULT_ADMIN_ROLE``, which only the
committee's timelock holds): the committee is the only way to change them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from web3 import Web3

from chain_client.governance import RuleChange
from chain_client.recycling import RecyclingMilestone
from chain_client.trades import TradePolicy
from chain_client.rules import GradingPolicy, InspectionPolicy
from chain_client.vocabulary import AUTHORITY_ROLES, BatteryCategory, BusinessRole, CustodyModel, Material

if TYPE_CHECKING:
    from chain_client.suite import Ledger


def soc_limit(ledger: Ledger, max_soc_bps: int) -> RuleChange:
    """The maximum state of charge of a battery at dispatch (``TransportStorage``)."""
    return RuleChange.of(ledger.logistics.contract, "setMaxStateOfCharge", [max_soc_bps],
                         f"transport SOC limit: {max_soc_bps / 100:g} %")


def grading_policy(ledger: Ledger, policy: GradingPolicy) -> RuleChange:
    """A new version of the grading before removal (``PerformanceEvaluations``)."""
    return RuleChange.of(ledger.evaluations.contract, "setGradingPolicy", [policy.as_tuple()],
                         f"grading policy: upper above {policy.upper_above_soh_bps / 100:g} %, middle above "
                         f"{policy.middle_above_soh_bps / 100:g} %, forcing faults {policy.forcing_faults:#x}, "
                         f"valid {policy.validity_seconds} s")


def targets(ledger: Ledger, year: int, effective_from: int, minimum_bps: dict[Material, int]) -> RuleChange:
    """The EU minimum recycled-content shares of milestone ``year`` (``RecycledContentTargets``)."""
    shares = ", ".join(f"{m.symbol} {v / 100:g} %" for m, v in minimum_bps.items()) or "none"
    return RuleChange.of(ledger.claims.targets, "setTargets",
                         [year, effective_from, [minimum_bps.get(m, 0) for m in Material]],
                         f"EU targets {year} from {effective_from}: {shares}")


def inspection_policy(ledger: Ledger, policy: InspectionPolicy) -> RuleChange:
    """How long an inspection pass may be valid and how long a failed battery waits for a re-test."""
    return RuleChange.of(ledger.inspections.contract, "setPolicy", [policy.as_tuple()],
                         f"inspection policy: passes valid at most {policy.max_validity_seconds} s, re-test by another "
                         f"body after {policy.retest_wait_seconds} s")


def scope(ledger: Ledger, category: BatteryCategory, from_year: int) -> RuleChange:
    """From which milestone year Article 8 applies to a battery category (0: never)."""
    return RuleChange.of(ledger.claims.targets, "setScope", [int(category), from_year],
                         f"Article 8 scope: {category.name} from {from_year or 'never'}")


def industrial_threshold(ledger: Ledger, above_wh: int) -> RuleChange:
    """The energy above which an industrial battery is in Article 8's scope."""
    return RuleChange.of(ledger.claims.targets, "setIndustrialThreshold", [above_wh],
                         f"industrial batteries in scope above {above_wh} Wh")


def custody_model_counts(ledger: Ledger, model: CustodyModel, counts: bool) -> RuleChange:
    """Whether claims under a chain-of-custody model count towards the EU minimums."""
    return RuleChange.of(ledger.claims.targets, "setCustodyModelCounts", [int(model), counts],
                         f"custody model {model.name.lower()} {'counts' if counts else 'does not count'}")


def consumer(ledger: Ledger, contract: str, authorised: bool = True) -> RuleChange:
    """Authorises (or deauthorises) a contract to consume and release certified quantities."""
    address = Web3.to_checksum_address(contract)
    return RuleChange.of(ledger.certificates.contract, "setConsumer", [address, authorised],
                         f"{'authorise' if authorised else 'deauthorise'} consumer {address}")


def safety_contracts(ledger: Ledger, evaluations: str, inspections: str) -> RuleChange:
    """Which evaluation and inspection contracts gate a battery's removal, sale and installation."""
    ev, insp = Web3.to_checksum_address(evaluations), Web3.to_checksum_address(inspections)
    return RuleChange.of(ledger.passports.contract, "setSafetyContracts", [ev, insp],
                         f"safety contracts: evaluations {ev}, inspections {insp}")


def grant_authority(ledger: Ledger, authority: str, account: str) -> RuleChange:
    """Grants an authority role (``moe``, ``motie``, ``molit``) in the registry."""
    address = Web3.to_checksum_address(account)
    return RuleChange.of(ledger.registry.contract, "grantRole", [AUTHORITY_ROLES[authority], address],
                         f"grant the {authority} authority to {address}")


def revoke_authority(ledger: Ledger, authority: str, account: str) -> RuleChange:
    """Revokes an authority role in the registry."""
    address = Web3.to_checksum_address(account)
    return RuleChange.of(ledger.registry.contract, "revokeRole", [AUTHORITY_ROLES[authority], address],
                         f"revoke the {authority} authority of {address}")


def role_authority(ledger: Ledger, role: BusinessRole, authority: str) -> RuleChange:
    """Which authority administers business ``role``."""
    return RuleChange.of(ledger.registry.contract, "setRoleAuthority", [int(role), AUTHORITY_ROLES[authority]],
                         f"{role.name.lower()} administered by {authority}")


# issue 14 -------------------------------------------------------------------------------------------------------


def trade_policy(ledger: Ledger, policy: TradePolicy) -> RuleChange:
    """k of the public price index, the price deviation flagged, and the trade authority (``UsedBatteryTrades``)."""
    return RuleChange.of(ledger.trades.contract, "setPolicy", [policy.as_tuple()],
                         f"trade policy: index cells of >= {policy.min_index_trades} trades, prices "
                         f"{policy.price_deviation_bps / 100:g} % off their cell flagged, trade authority "
                         f"0x{policy.trade_authority.hex()}")


def recycling_targets(ledger: Ledger, milestone: RecyclingMilestone) -> RuleChange:
    """The Annex XII recycling-efficiency and material-recovery targets of a milestone (``RecyclingEfficiency``)."""
    return RuleChange.of(ledger.recycling.contract, "setTargets", [milestone.year, milestone.as_tuple()],
                         f"Annex XII targets {milestone.year} from {milestone.effective_from}")

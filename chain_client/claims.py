"""Typed client of UsageAttestations (Ministry of Trade, Industry and Energy) and the EU targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.types import TxReceipt

from chain_client.client import ContractClient
from chain_client.errors import decodes_reverts
from chain_client.events import event_args
from chain_client.transactions import Submitter
from chain_client.vocabulary import ClaimStatus, CustodyModel, Feedstock, Material

ZERO32 = b"\x00" * 32


@dataclass(frozen=True)
class Allocation:
    lot_id: int
    grams: int


@dataclass(frozen=True)
class ClaimRequest:
    """A usage claim for battery model x plant x production period. ``content_grams`` is the metal in the
    batteries (active materials; the whole battery for lead), by material; absent metals count as zero."""

    battery_model: bytes
    plant: bytes
    period_start: int
    period_end: int
    custody_model: CustodyModel
    content_grams: dict[Material, int]
    allocations: Sequence[Allocation]
    batteries_root: bytes = ZERO32
    evidence_hash: bytes = ZERO32

    def as_tuple(self) -> tuple[object, ...]:
        return (self.battery_model, self.plant, self.period_start, self.period_end, int(self.custody_model),
                [self.content_grams.get(m, 0) for m in Material],
                [(a.lot_id, a.grams) for a in self.allocations], self.batteries_root, self.evidence_hash)


@dataclass(frozen=True)
class Claim:
    claim_id: int
    claimant: str
    status: ClaimStatus
    custody_model: CustodyModel
    opened_at: int
    decided_at: int
    period_start: int
    period_end: int
    battery_model: bytes
    plant: bytes
    batteries_root: bytes
    evidence_hash: bytes
    allocation_count: int = 0


@dataclass(frozen=True)
class MetalShare:
    material: Material
    content_grams: int
    pre_consumer_grams: int
    post_consumer_grams: int
    share_bps: int
    pre_consumer_bps: int
    post_consumer_bps: int


@dataclass(frozen=True)
class ConsumedAllocation:
    lot_id: int
    grams: int
    material: Material
    feedstock: Feedstock


@dataclass(frozen=True)
class Compliance:
    year: int
    attested: bool
    tainted: bool
    in_scope: bool  # Article 8 covers the claim's model at this milestone
    custody_counts: bool  # the claim's chain-of-custody model counts toward the share
    meets: bool
    share_bps: dict[Material, int] = field(default_factory=dict)
    minimum_bps: dict[Material, int] = field(default_factory=dict)


class Claims(ContractClient):
    def __init__(self, contract: Contract, targets: Contract, submitter: Submitter) -> None:
        super().__init__(contract, submitter)
        self.targets = targets

    def open(self, cell_maker: LocalAccount, request: ClaimRequest) -> int:
        """Opens a claim (consuming its allocations) and returns its id."""
        receipt = self.submit(cell_maker, self.contract.functions.openClaim(request.as_tuple()))
        return int(event_args(self.contract, "ClaimOpened", receipt)["claimId"])

    def attest(self, motie: LocalAccount, claim_id: int) -> TxReceipt:
        return self.submit(motie, self.contract.functions.attestClaim(claim_id))

    def reject(self, motie: LocalAccount, claim_id: int, reason_hash: bytes = ZERO32) -> TxReceipt:
        return self.submit(motie, self.contract.functions.rejectClaim(claim_id, reason_hash))

    def set_targets(self, governance: LocalAccount, year: int, effective_from: int,
                    minimum_bps: dict[Material, int]) -> TxReceipt:
        return self.submit(governance, self.targets.functions.setTargets(
            year, effective_from, [minimum_bps.get(m, 0) for m in Material]))

    @decodes_reverts
    def claim(self, claim_id: int) -> Claim:
        c = self.contract.functions.claim(claim_id).call()
        return Claim(claim_id, c[0], ClaimStatus(c[1]), CustodyModel(c[2]), c[3], c[4], c[5], c[6], bytes(c[8]),
                     bytes(c[9]), bytes(c[10]), bytes(c[11]), allocation_count=c[7])

    @decodes_reverts
    def allocations(self, claim_id: int) -> list[ConsumedAllocation]:
        return [ConsumedAllocation(a[0], a[1], Material(a[2]), Feedstock(a[3]))
                for a in self.contract.functions.allocations(claim_id).call()]

    @decodes_reverts
    def shares(self, claim_id: int) -> dict[Material, MetalShare]:
        """Recycled content per metal the batteries contain."""
        raw = self.contract.functions.metalShares(claim_id).call()
        return {Material(m): MetalShare(Material(m), *row) for m, row in enumerate(raw) if row[0] != 0}

    @decodes_reverts
    def is_tainted(self, claim_id: int) -> tuple[bool, int]:
        tainted, lot_id = self.contract.functions.isTainted(claim_id).call()
        return bool(tainted), int(lot_id)

    @decodes_reverts
    def compliance(self, claim_id: int, year: int) -> Compliance:
        attested, tainted, in_scope, custody, meets, shares, minimums = \
            self.contract.functions.compliance(claim_id, year).call()
        return Compliance(year, attested, tainted, in_scope, custody, meets,
                          {Material(i): v for i, v in enumerate(shares)},
                          {Material(i): v for i, v in enumerate(minimums)})

    @decodes_reverts
    def covers(self, claim_id: int, battery: bytes, proof: Sequence[bytes]) -> bool:
        """Whether the attested, untainted claim covers ``battery`` (a battery of its model, proven into its root)."""
        return bool(self.contract.functions.covers(claim_id, battery, list(proof)).call())

    @decodes_reverts
    def covers_batch_member(self, claim_id: int, batch_id: int, battery: bytes, batch_proof: Sequence[bytes],
                            claim_proof: Sequence[bytes]) -> bool:
        """:meth:`covers` for a battery known by its anchored batch of the claim's model (no record needed)."""
        return bool(self.contract.functions.coversBatchMember(claim_id, batch_id, battery, list(batch_proof),
                                                              list(claim_proof)).call())

    @decodes_reverts
    def milestone_years(self) -> list[int]:
        return [int(y) for y in self.targets.functions.milestoneYears().call()]

    @decodes_reverts
    def claim_count(self) -> int:
        return int(self.contract.functions.claimCount().call())

"""A Hypothesis state machine over the deployed suite: random acts by random actors (including the wrong ones),
driven through the typed clients, with invariants checked after every step through the public views only.

Invariants (checked after every step):

- mass conservation: for every lot ever certified, the balances of all holders plus what open or attested
  claims consumed from it (unreleased consumption) equal its certified mass; a lot never certified has no balance;
- no holder ever has more than a lot's mass (balances are unsigned on chain: a negative one would wrap);
- the chain agrees with a model that applies only the acts that succeeded: so a refused act changed nothing;
- a tainted claim (one that consumed from a revoked lot) never meets a milestone's minimums;
- every battery batch the index (the model) holds is on chain under the same id and root, and every
  materialized battery reads Original.

Used by ``tests/test_invariants.py`` (a short run in ``make test``) and ``python -m tests.soak`` (``make soak``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from web3.exceptions import MismatchedABI, Web3ValidationError

from chain_client.certificates import LotApplication
from chain_client.claims import Allocation, ClaimRequest
from chain_client.errors import ContractRevert
from chain_client.input_checks import InputError
from chain_client.merkle import MerkleTree, keccak
from chain_client.vocabulary import (
    ClaimStatus,
    CustodyModel,
    Feedstock,
    LotStatus,
    Material,
    ParticipantStatus,
    identifier,
    short_string,
)
from tests.conftest import DAY, FACILITY, FACILITY2, MODEL, World

HOLDERS = ("recycler", "recycler2", "processor", "cell_maker", "cell_maker2")
ACTORS = HOLDERS + ("moe", "motie", "stranger")
#: Participants whose status the machine changes: (name, the authority that administers its role).
SUSPENDABLE = (("recycler2", "moe"), ("processor", "motie"), ("cell_maker2", "motie"))
MAX_LOTS, MAX_CLAIMS, MAX_BATCHES = 5, 4, 2


@dataclass
class Stats:
    """What a run did: steps, acts that went through, acts the contracts refused, invariant violations."""

    steps: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)


@dataclass
class LotModel:
    recycler: str
    mass: int
    status: LotStatus = LotStatus.PENDING
    material: Material = Material.LITHIUM
    balances: dict[str, int] = field(default_factory=dict)
    certified: bool = False  # ever certified (a revoked lot was)


@dataclass
class ClaimModel:
    claimant: str
    allocations: list[tuple[int, int]]
    status: ClaimStatus = ClaimStatus.OPEN


class LedgerMachine(RuleBasedStateMachine):
    """Set ``world`` (a deployed suite, see ``tests.conftest._base_state``) and ``stats`` on the class before use;
    each example starts from a chain snapshot and is reverted at teardown."""

    world: World
    stats: Stats

    def __init__(self) -> None:
        super().__init__()
        self.snapshot = self.world.backend.snapshot()
        self.lots: dict[int, LotModel] = {}
        self.claims: dict[int, ClaimModel] = {}
        self.status: dict[str, ParticipantStatus] = {name: ParticipantStatus.ACTIVE for name in HOLDERS}
        self.batches: dict[int, tuple[bytes, list[str]]] = {}  # id -> (root, identifiers): the "index"
        self.materialized: set[bytes] = set()
        self.first_lot = self.world.ledger.certificates.lot_count() + 1
        self.first_claim = self.world.ledger.claims.claim_count() + 1
        self.years = self.world.ledger.claims.milestone_years()

    def teardown(self) -> None:
        self.world.backend.revert(self.snapshot)
        self.world.sender.nonces.reset()

    # helpers ----------------------------------------------------------------------------------------------------
    def acct(self, name: str) -> Any:
        return self.world.accounts[name]

    def addr(self, name: str) -> str:
        return str(self.world.accounts[name].address)

    def act(self, name: str, fn: Any, *args: Any) -> Any:
        """Runs one act; a contract refusal is recorded and must change nothing (checked by the invariants)."""
        self.stats.steps += 1
        try:
            result = fn(*args)
        except ContractRevert as exc:
            self.stats.refused[f"{name}: {exc.name}"] += 1
            return None
        except (InputError, Web3ValidationError, MismatchedABI) as exc:  # refused before sending (out of range)
            self.stats.refused[f"{name}: refused by the client ({type(exc).__name__})"] += 1
            return None
        self.stats.accepted[name] += 1
        return result if result is not None else True

    def lot_ids(self) -> list[int]:
        return sorted(self.lots)

    # acts -------------------------------------------------------------------------------------------------------
    @initialize()
    def start(self) -> None:
        pass

    @precondition(lambda self: len(self.lots) < MAX_LOTS)
    @rule(who=st.sampled_from(("recycler", "recycler", "recycler2", "stranger")),
          grams=st.one_of(st.integers(1, 1_000_000), st.just(2**128 - 1)),
          facility=st.sampled_from((FACILITY, FACILITY2)), pre=st.booleans())
    def apply(self, who: str, grams: int, facility: bytes, pre: bool) -> None:
        now = self.world.now
        application = LotApplication(Material.LITHIUM, Feedstock.PRE_CONSUMER if pre else Feedstock.POST_CONSUMER,
                                     grams, short_string("Li2CO3"), facility, now - 30 * DAY, now - DAY,
                                     b"\x11" * 32, b"\x22" * 32)
        lot_id = self.act("apply", self.world.ledger.certificates.apply, self.acct(who), application)
        if lot_id:
            self.lots[lot_id] = LotModel(self.addr(who), grams)

    @precondition(lambda self: len(self.lots) < MAX_LOTS)
    @rule(grams=st.integers(1_000, 1_000_000), to=st.sampled_from(("cell_maker", "cell_maker2", "processor")),
          share=st.sampled_from((0.25, 0.5, 1.0)), then_claim=st.booleans())
    def supply(self, grams: int, to: str, share: float, then_claim: bool) -> None:
        """The common path in three acts: a recycler applies, MoE certifies, the recycler ships part of it."""
        now = self.world.now
        application = LotApplication(Material.LITHIUM, Feedstock.POST_CONSUMER, grams, short_string("Li2CO3"),
                                     FACILITY, now - 30 * DAY, now - DAY, b"\x11" * 32, b"\x22" * 32)
        lot_id = self.act("apply", self.world.ledger.certificates.apply, self.acct("recycler"), application)
        if not lot_id:
            return
        lot = self.lots[lot_id] = LotModel(self.addr("recycler"), grams)
        if not self.act("certify", self.world.ledger.certificates.certify, self.acct("moe"), lot_id):
            return
        lot.status, lot.certified, lot.balances[lot.recycler] = LotStatus.CERTIFIED, True, grams
        shipped = max(1, int(grams * share))
        if self.act("transfer", self.world.ledger.certificates.transfer, self.acct("recycler"), lot_id,
                    self.addr(to), shipped, identifier(f"SHIP-{self.stats.steps}")):
            lot.balances[lot.recycler] -= shipped
            lot.balances[self.addr(to)] = lot.balances.get(self.addr(to), 0) + shipped
            if then_claim and to == "cell_maker" and len(self.claims) < MAX_CLAIMS:  # and a claim consumes part of it
                self._open_claim(to, [(lot_id, max(1, shipped // 2))], 1_000_000)

    @precondition(lambda self: bool(self.lots))
    @rule(data=st.data(), who=st.sampled_from(("moe", "moe", "moe", "motie", "recycler")),
          decision=st.sampled_from(("certify", "certify", "certify", "reject", "revoke")))
    def decide(self, data: st.DataObject, who: str, decision: str) -> None:
        lot_id = data.draw(st.sampled_from(self.lot_ids()))
        c = self.world.ledger.certificates
        fn = {"certify": c.certify, "reject": c.reject, "revoke": c.revoke}[decision]
        if self.act(decision, fn, self.acct(who), lot_id):
            lot = self.lots[lot_id]
            if decision == "certify":
                lot.status, lot.certified = LotStatus.CERTIFIED, True
                lot.balances[lot.recycler] = lot.balances.get(lot.recycler, 0) + lot.mass
            else:
                lot.status = LotStatus.REJECTED if decision == "reject" else LotStatus.REVOKED

    def held(self) -> list[tuple[int, str]]:
        """(lot, holder name) pairs with a balance in the model."""
        names = {self.addr(h): h for h in HOLDERS}
        return [(lot_id, names[a]) for lot_id, lot in sorted(self.lots.items()) for a, g in lot.balances.items()
                if g > 0 and a in names]

    @precondition(lambda self: bool(self.lots))
    @rule(data=st.data(), to=st.sampled_from(HOLDERS + ("stranger",)), fraction=st.sampled_from((0.1, 0.5, 1.0, 1.5)),
          any_sender=st.booleans())
    def transfer(self, data: st.DataObject, to: str, fraction: float, any_sender: bool) -> None:
        pairs = self.held()
        if pairs and not any_sender:
            lot_id, sender = data.draw(st.sampled_from(pairs))
        else:
            lot_id, sender = data.draw(st.sampled_from(self.lot_ids())), data.draw(st.sampled_from(HOLDERS))
        lot = self.lots[lot_id]
        held = lot.balances.get(self.addr(sender), 0)
        grams = max(1, int(held * fraction)) if held else data.draw(st.integers(1, 1_000))
        if self.act("transfer", self.world.ledger.certificates.transfer, self.acct(sender), lot_id, self.addr(to),
                    grams, identifier(f"SHIP-{self.stats.steps}")):
            lot.balances[self.addr(sender)] -= grams
            lot.balances[self.addr(to)] = lot.balances.get(self.addr(to), 0) + grams

    @precondition(lambda self: bool(self.lots) and len(self.claims) < MAX_CLAIMS)
    @rule(data=st.data(), who=st.sampled_from(("cell_maker", "cell_maker", "cell_maker", "cell_maker2", "processor")),
          content=st.sampled_from((1_000_000, 10_000_000, 50)))
    def open_claim(self, data: st.DataObject, who: str, content: int) -> None:
        own = sorted({lot for lot, holder in self.held() if holder == who})
        picks = data.draw(st.lists(st.sampled_from(own or self.lot_ids()), min_size=1, max_size=2))
        allocations = []
        for lot_id in picks:
            held = self.lots[lot_id].balances.get(self.addr(who), 0)
            allocations.append((lot_id, data.draw(st.sampled_from((max(1, held // 2), max(1, held), held + 1)))))
        self._open_claim(who, allocations, content)

    def _open_claim(self, who: str, allocations: list[tuple[int, int]], content: int) -> None:
        now = self.world.now
        request = ClaimRequest(MODEL, identifier("PLANT"), now - 60 * DAY, now - DAY, CustodyModel.MASS_BALANCE,
                               {Material.LITHIUM: content, Material.NICKEL: 5 * content, Material.COBALT: content},
                               [Allocation(lot, grams) for lot, grams in allocations])
        claim_id = self.act("open claim", self.world.ledger.claims.open, self.acct(who), request)
        if claim_id:
            self.claims[claim_id] = ClaimModel(self.addr(who), allocations)
            for lot_id, grams in allocations:
                self.lots[lot_id].balances[self.addr(who)] -= grams

    @precondition(lambda self: bool(self.claims))
    @rule(data=st.data(), who=st.sampled_from(("motie", "motie", "moe")), attest=st.booleans())
    def decide_claim(self, data: st.DataObject, who: str, attest: bool) -> None:
        claim_id = data.draw(st.sampled_from(sorted(self.claims)))
        c = self.world.ledger.claims
        if attest:
            if self.act("attest claim", c.attest, self.acct(who), claim_id):
                self.claims[claim_id].status = ClaimStatus.ATTESTED
        elif self.act("reject claim", c.reject, self.acct(who), claim_id):
            claim = self.claims[claim_id]
            claim.status = ClaimStatus.REJECTED
            for lot_id, grams in claim.allocations:  # a rejected claim releases what it allocated
                balances = self.lots[lot_id].balances
                balances[claim.claimant] = balances.get(claim.claimant, 0) + grams

    @rule(pair=st.sampled_from(SUSPENDABLE), by_wrong_authority=st.booleans(),
          action=st.sampled_from(("suspend", "suspend", "reinstate", "reinstate", "reinstate", "revoke")))
    def participant_status(self, pair: tuple[str, str], by_wrong_authority: bool, action: str) -> None:
        name, authority = pair
        if by_wrong_authority:
            authority = "motie" if authority == "moe" else "moe"
        r = self.world.ledger.registry
        fn = {"suspend": r.suspend, "reinstate": r.reinstate, "revoke": r.revoke}[action]
        if self.act(f"participant {action}", fn, self.acct(authority), self.addr(name)):
            self.status[name] = {"suspend": ParticipantStatus.SUSPENDED, "reinstate": ParticipantStatus.ACTIVE,
                                 "revoke": ParticipantStatus.REVOKED}[action]

    @precondition(lambda self: len(self.batches) < MAX_BATCHES)
    @rule(who=st.sampled_from(("cell_maker", "cell_maker", "cell_maker2")), size=st.integers(1, 6),
          salt=st.integers(0, 2**32))
    def anchor_batch(self, who: str, size: int, salt: int) -> None:
        prefix = "KR:KCELL" if who == "cell_maker" else "KR:OTHER"
        idents = [f"{prefix}:SM-{salt}-{i}" for i in range(size)]
        ids = [keccak(i.encode()) for i in idents]
        root = MerkleTree(ids).root
        batch_id = self.act("anchor batch", self.world.ledger.passports.anchor_batch, self.acct(who), MODEL, root,
                            size, keccak(root))
        if batch_id:
            self.batches[batch_id] = (root, idents)

    @precondition(lambda self: any(keccak(i.encode()) not in self.materialized for _, ids in self.batches.values()
                                   for i in ids))
    @rule(data=st.data(), who=st.sampled_from(("cell_maker", "stranger")), again=st.integers(0, 9))
    def materialize(self, data: st.DataObject, who: str, again: int) -> None:
        batch_id = data.draw(st.sampled_from(sorted(self.batches)))
        root, ids = self.batches[batch_id]
        fresh = [i for i in ids if keccak(i.encode()) not in self.materialized]
        ident = data.draw(st.sampled_from(fresh if fresh and again else ids))  # now and then a second time
        battery = keccak(ident.encode())
        proof = MerkleTree(keccak(i.encode()) for i in ids).proof(battery)
        if self.act("materialize", self.world.ledger.passports.materialize, self.acct(who), batch_id, ident, proof):
            self.materialized.add(battery)

    # invariants -------------------------------------------------------------------------------------------------
    def violated(self, message: str) -> None:
        self.stats.violations.append(message)
        raise AssertionError(message)

    @invariant()
    def chain_agrees_with_the_model(self) -> None:
        ledger = self.world.ledger
        certificates, claims = ledger.certificates, ledger.claims
        if certificates.lot_count() != self.first_lot - 1 + len(self.lots):
            self.violated(f"lot count {certificates.lot_count()} differs from the acts that went through")
        holders = [self.addr(h) for h in HOLDERS] + [self.addr("stranger")]
        unreleased: Counter[int] = Counter()
        for claim_id, claim in self.claims.items():
            on_chain = claims.claim(claim_id)
            if on_chain.status != claim.status:
                self.violated(f"claim #{claim_id} is {on_chain.status.name} on chain, the model says "
                              f"{claim.status.name}: a refused act changed something")
            if claim.status in (ClaimStatus.OPEN, ClaimStatus.ATTESTED):
                for lot_id, grams in claim.allocations:
                    unreleased[lot_id] += grams
            tainted, _ = claims.is_tainted(claim_id)
            expected_taint = any(self.lots[lot].status == LotStatus.REVOKED for lot, _ in claim.allocations)
            if tainted != expected_taint:
                self.violated(f"claim #{claim_id}: tainted={tainted}, its lots say {expected_taint}")
            for year in self.years:
                compliance = claims.compliance(claim_id, year)
                if compliance.tainted and compliance.meets:
                    self.violated(f"claim #{claim_id} is tainted yet meets the {year} minimums")
        for lot_id, lot in self.lots.items():
            chain_lot = certificates.lot(lot_id)
            if chain_lot.status != lot.status or chain_lot.mass_grams != lot.mass:
                self.violated(f"lot #{lot_id}: {chain_lot.status.name} {chain_lot.mass_grams} g on chain, model "
                              f"{lot.status.name} {lot.mass} g")
            total = 0
            for holder in holders:
                balance = certificates.balance(lot_id, holder)
                if balance != lot.balances.get(holder, 0):
                    self.violated(f"lot #{lot_id}: {holder} holds {balance} g on chain, the model "
                                  f"{lot.balances.get(holder, 0)} g")
                if balance > lot.mass:
                    self.violated(f"lot #{lot_id}: a balance of {balance} g exceeds the lot's {lot.mass} g")
                total += balance
            expected = lot.mass if lot.certified else 0
            if total + unreleased[lot_id] != expected:
                self.violated(f"lot #{lot_id}: balances {total} g + unreleased consumption {unreleased[lot_id]} g "
                              f"!= certified mass {expected} g")
        for name, status in self.status.items():
            if ledger.registry.participant(self.addr(name)).status != status:
                self.violated(f"{name} is not {status.name} on chain")

    @invariant()
    def batches_agree_with_the_index(self) -> None:
        passports = self.world.ledger.passports
        for batch_id, (root, ids) in self.batches.items():
            batch = passports.batch(batch_id)
            if batch.root != root or batch.count != len(ids):
                self.violated(f"batch #{batch_id} holds root 0x{batch.root.hex()} on chain, the index 0x{root.hex()}")
        for battery in self.materialized:
            if passports.battery(battery).status.name != "ORIGINAL":
                self.violated(f"materialized battery 0x{battery.hex()} is not Original")


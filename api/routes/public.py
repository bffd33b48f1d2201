"""Public lookups, no sign-in: what an EU importer or a customs officer opens. Read from the chain, with the block
read. (The human-readable passport page ``/p/{identifier}`` is mounted beside these.)"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.chain import ChainContext
from api.deps import Chain
from api.indexer import Indexer, indexed_block
from api.models import IxClaim
from api.problems import ApiProblem, responses
from chain_client.errors import ContractRevert
from chain_client.passports import battery_id
from chain_client.suite import Ledger
from chain_client.vocabulary import BatteryStatus, ClaimStatus, LotStatus

router = APIRouter(prefix="/v1/public", tags=["public"])
CACHE_SIZE = 4_096


class PublicReads:
    """What public answers are made of, shared by concurrent readers: the chain head and the index's block (read
    once for all the requests that ask while a read is under way), and the answers per (what, block, indexed block)
    as JSON bytes (a lookup is a function of the chain at a block and of the index, so readers of one block share one
    set of chain reads, each pinned to that block). Chain and database reads run in the threadpool, never on the
    event loop."""

    def __init__(self, chain: ChainContext, engine: Engine, indexer: Indexer | None = None,
                 size: int = CACHE_SIZE) -> None:
        self.chain = chain
        self.engine = engine
        self.indexer = indexer
        self.size = size
        self._answers: OrderedDict[tuple[object, ...], asyncio.Future[bytes]] = OrderedDict()
        self._heads: asyncio.Future[tuple[int, int]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _on_this_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # futures belong to one event loop (a test client may run several in turn)
            self._loop, self._heads = loop, None
            self._answers.clear()

    def _read_heads(self) -> tuple[int, int]:
        head = self.chain.block_number()
        indexed = self.indexer.indexed if self.indexer is not None else None
        if indexed is None:  # this process's indexer has not run yet: the cursor as stored
            with Session(self.engine) as db:
                indexed = indexed_block(db)
        return head, indexed

    async def heads(self) -> tuple[int, int]:
        """(chain head, indexed block): a request arriving while a read is under way shares its result."""
        self._on_this_loop()
        if self._heads is None or self._heads.done():
            self._heads = asyncio.ensure_future(run_in_threadpool(self._read_heads))
        return await asyncio.shield(self._heads)

    async def answer(self, key: tuple[object, ...], make: Callable[[], BaseModel]) -> Response:
        """The answer for ``key`` as JSON, made once (in the threadpool) however many readers ask for it."""
        self._on_this_loop()
        found = self._answers.get(key)
        if found is None or found.cancelled() or (found.done() and found.exception() is not None):
            found = self._answers[key] = asyncio.ensure_future(
                run_in_threadpool(lambda: make().model_dump_json().encode()))
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)
        else:
            self._answers.move_to_end(key)
        try:
            body = await asyncio.shield(found)
        except BaseException:
            if self._answers.get(key) is found:
                del self._answers[key]  # errors (unknown battery, node down) are not kept
            raise
        return Response(content=body, media_type="application/json")


def reads_of(request: Request) -> PublicReads:
    reads = getattr(request.app.state, "public_reads", None)
    if reads is None:
        state = request.app.state
        reads = state.public_reads = PublicReads(state.chain, state.engine, getattr(state, "indexer", None))
    return reads  # type: ignore[no-any-return]


Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


class MetalShareOut(BaseModel):
    material: str
    content_grams: int
    recycled_share_bps: int
    pre_consumer_bps: int
    post_consumer_bps: int


class Article8Result(BaseModel):
    """EU 2023/1542 Article 8 minimum recycled content, checked on-chain for one milestone year."""

    year: int
    meets: bool
    share_bps: dict[str, int]
    minimum_bps: dict[str, int]


class ClaimVerification(BaseModel):
    claim_id: int
    status: str
    claimant: str
    battery_model: str
    custody_model: str
    period_start: int
    period_end: int
    tainted: bool
    tainted_by_lot: int | None
    shares: list[MetalShareOut]
    article8: list[Article8Result]
    block: int


class BatteryLookup(BaseModel):
    identifier: str
    battery_id: str
    status: str
    closed: bool
    model_id: str
    category: str | None
    manufacturer: str | None
    covering_claim: ClaimVerification | None
    block: int


class LotLookup(BaseModel):
    lot_id: int
    status: str
    material: str
    feedstock: str
    mass_grams: int
    recycler: str
    block: int


def verify_claim(ledger: Ledger, claim_id: int, block: int) -> ClaimVerification:
    """A claim's verification from ``ledger`` (pinned to ``block``)."""
    claims = ledger.claims
    try:
        c = claims.claim(claim_id)
    except ContractRevert as exc:
        if not exc.name.endswith("UnknownClaim"):
            raise
        raise ApiProblem(404, "unknown-claim", f"no claim {claim_id}") from None
    if c.status == ClaimStatus.NONE:
        raise ApiProblem(404, "unknown-claim", f"no claim {claim_id}")
    tainted, lot = claims.is_tainted(claim_id)
    shares = [MetalShareOut(material=m.name.lower(), content_grams=s.content_grams, recycled_share_bps=s.share_bps,
                            pre_consumer_bps=s.pre_consumer_bps, post_consumer_bps=s.post_consumer_bps)
              for m, s in claims.shares(claim_id).items()]
    article8 = []
    for year in claims.milestone_years():
        r = claims.compliance(claim_id, year)
        article8.append(Article8Result(year=year, meets=r.meets,
                                       share_bps={m.name.lower(): v for m, v in r.share_bps.items() if v},
                                       minimum_bps={m.name.lower(): v for m, v in r.minimum_bps.items() if v}))
    return ClaimVerification(claim_id=claim_id, status=c.status.name.lower(), claimant=c.claimant,
                             battery_model="0x" + c.battery_model.hex(), custody_model=c.custody_model.name.lower(),
                             period_start=c.period_start, period_end=c.period_end, tainted=tainted,
                             tainted_by_lot=lot if tainted else None, shares=shares, article8=article8, block=block)


@router.get("/batteries/{identifier}", response_model=BatteryLookup, responses=responses(404, 422, 503))
async def battery(identifier: Annotated[str, Path(min_length=1, max_length=200)], request: Request) -> Response:
    """A battery by its identifier: public passport tier, status, and the attested claim covering its model with
    per-metal recycled shares and the EU Article 8 result."""
    if not identifier.strip():
        raise ApiProblem(404, "unknown-battery", "an empty identifier names no battery")
    reads = reads_of(request)
    block, indexed = await reads.heads()
    return await reads.answer(("battery", identifier.strip(), block, indexed),
                              lambda: _battery(identifier, reads, block))


def _battery(identifier: str, reads: PublicReads, block: int) -> BatteryLookup:
    ledger = reads.chain.ledger_at(block)
    bid = battery_id(identifier)
    b = ledger.passports.battery(bid)
    if b.status == BatteryStatus.NONE:
        raise ApiProblem(404, "unknown-battery", f"no battery {identifier.strip()!r} on this ledger")
    model = ledger.passports.model(b.model_id)
    with Session(reads.engine) as db:
        covering = db.exec(select(IxClaim).where(IxClaim.battery_model == "0x" + b.model_id.hex(),
                                                 IxClaim.status == int(ClaimStatus.ATTESTED))
                           .order_by(col(IxClaim.claim_id).desc())).first()
    return BatteryLookup(identifier=identifier.strip(), battery_id="0x" + bid.hex(), status=b.status.label,
                         closed=b.closed, model_id="0x" + b.model_id.hex(), category=model.category.name.lower(),
                         manufacturer=model.manufacturer,
                         covering_claim=verify_claim(ledger, int(covering.claim_id), block) if covering else None,
                         block=block)


@router.get("/claims/{claim_id}", response_model=ClaimVerification, responses=responses(404, 422, 503))
async def claim(claim_id: Id, request: Request) -> Response:
    """A usage claim's verification: status, taint (a revoked source lot), shares, Article 8 per milestone."""
    reads = reads_of(request)
    block, _ = await reads.heads()
    return await reads.answer(("claim", claim_id, block),
                              lambda: verify_claim(reads.chain.ledger_at(block), claim_id, block))


@router.get("/lots/{lot_id}", response_model=LotLookup, responses=responses(404, 422, 503))
def lot(lot_id: Id, chain: Chain) -> LotLookup:
    block = chain.block_number()
    found = chain.ledger_at(block).certificates.lot(lot_id)
    if found.status == LotStatus.NONE:
        raise ApiProblem(404, "unknown-lot", f"no lot {lot_id}")
    return LotLookup(lot_id=lot_id, status=found.status.name.lower(), material=found.material.name.lower(),
                     feedstock=found.feedstock.name.lower(), mass_grams=found.mass_grams, recycler=found.recycler,
                     block=block)

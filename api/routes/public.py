"""Public lookups, no sign-in: what an EU importer or a customs officer opens. Read from the chain, with the block
read. (The human-readable passport page ``/p/{identifier}`` is mounted beside these.)"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from sqlmodel import col, select

from api.deps import Chain, Db
from api.indexer import indexed_block
from api.models import IxClaim
from api.problems import ApiProblem, responses
from chain_client.errors import ContractRevert
from chain_client.passports import battery_id
from chain_client.vocabulary import BatteryStatus, ClaimStatus, LotStatus

router = APIRouter(prefix="/v1/public", tags=["public"])
CACHE_SIZE = 4_096


class BlockCache:
    """Public answers per (what, block): a lookup is a function of the chain at a block (and of the index), so
    concurrent readers of the same block share one set of chain reads."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[object, ...], BaseModel] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: tuple[object, ...], make: Callable[[], M]) -> M:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found  # type: ignore[return-value]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def cache_of(request: Request) -> BlockCache:
    cache = getattr(request.app.state, "public_cache", None)
    if cache is None:
        cache = request.app.state.public_cache = BlockCache()
    return cache  # type: ignore[no-any-return]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
M = TypeVar("M", bound=BaseModel)


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


def verify_claim(chain: Chain, claim_id: int, block: int) -> ClaimVerification:
    claims = chain.ledger.claims
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
def battery(identifier: Annotated[str, Path(min_length=1, max_length=200)], chain: Chain, db: Db,
            request: Request) -> BatteryLookup:
    """A battery by its identifier: public passport tier, status, and the attested claim covering its model with
    per-metal recycled shares and the EU Article 8 result."""
    if not identifier.strip():
        raise ApiProblem(404, "unknown-battery", "an empty identifier names no battery")
    block = chain.block_number()
    key = ("battery", identifier.strip(), block, indexed_block(db))
    return cache_of(request).get_or_make(key, lambda: _battery(identifier, chain, db, block))


def _battery(identifier: str, chain: Chain, db: Db, block: int) -> BatteryLookup:
    bid = battery_id(identifier)
    b = chain.ledger.passports.battery(bid)
    if b.status == BatteryStatus.NONE:
        raise ApiProblem(404, "unknown-battery", f"no battery {identifier.strip()!r} on this ledger")
    model = chain.ledger.passports.model(b.model_id)
    covering = db.exec(select(IxClaim).where(IxClaim.battery_model == "0x" + b.model_id.hex(),
                                             IxClaim.status == int(ClaimStatus.ATTESTED))
                       .order_by(col(IxClaim.claim_id).desc())).first()
    return BatteryLookup(identifier=identifier.strip(), battery_id="0x" + bid.hex(), status=b.status.label,
                         closed=b.closed, model_id="0x" + b.model_id.hex(), category=model.category.name.lower(),
                         manufacturer=model.manufacturer,
                         covering_claim=verify_claim(chain, int(covering.claim_id), block) if covering else None,
                         block=block)


@router.get("/claims/{claim_id}", response_model=ClaimVerification, responses=responses(404, 422, 503))
def claim(claim_id: Id, chain: Chain, request: Request) -> ClaimVerification:
    """A usage claim's verification: status, taint (a revoked source lot), shares, Article 8 per milestone."""
    block = chain.block_number()
    return cache_of(request).get_or_make(("claim", claim_id, block), lambda: verify_claim(chain, claim_id, block))


@router.get("/lots/{lot_id}", response_model=LotLookup, responses=responses(404, 422, 503))
def lot(lot_id: Id, chain: Chain) -> LotLookup:
    block = chain.block_number()
    found = chain.ledger.certificates.lot(lot_id)
    if found.status == LotStatus.NONE:
        raise ApiProblem(404, "unknown-lot", f"no lot {lot_id}")
    return LotLookup(lot_id=lot_id, status=found.status.name.lower(), material=found.material.name.lower(),
                     feedstock=found.feedstock.name.lower(), mass_grams=found.mass_grams, recycler=found.recycler,
                     block=block)

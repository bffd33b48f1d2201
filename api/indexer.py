"""The chain index: follows the suite's events into SQL tables (an index, rebuildable from the chain alone).

Events are stored as they came (``ix_event``) and projected into one table per kind of record. The indexer keeps
a cursor a configurable number of blocks below the head; if the hash of a block it indexed changed (a
reorganisation), it rolls back to the last block that still matches and projects the tables again.

Catching up is done in block ranges: one ``eth_getLogs`` per range (the range halves when the node refuses a query
with too many results, and grows back), logs decoded by a decoder built once per event from the ABI, and each range
written in one database transaction: events and append-only records in bulk inserts, the records that events update
(balances, lots, batteries...) through a per-range cache instead of a query per event. Block hashes come with the
logs; only the range's last block is fetched.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, TypeVar, cast

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic, to_checksum_address
from hexbytes import HexBytes
from sqlalchemy import Table, delete
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select
from web3.exceptions import BlockNotFound
from web3.providers.eth_tester import EthereumTesterProvider

from api.chain import ChainContext
from api.models import (
    INDEX_TABLES,
    ChainEvent,
    IndexCursor,
    IndexedBlock,
    IxAllocation,
    IxBalance,
    IxBatch,
    IxBattery,
    IxBatteryEvent,
    IxClaim,
    IxEvaluation,
    IxFacility,
    IxInspection,
    IxLot,
    IxModel,
    IxParticipant,
    IxShipment,
    IxSite,
    IxStored,
    IxTransfer,
)
from api.problems import NODE_DOWN
from chain_client.suite import SUITE, contract_at
from chain_client.vocabulary import ClaimStatus, LotStatus, ParticipantStatus

T = TypeVar("T", bound=SQLModel)
log = logging.getLogger("api.indexer")
CURSOR = "suite"
#: Words in a node's refusal of an ``eth_getLogs`` that asks too much (geth, Besu, hosted nodes): the range halves.
TOO_MANY = ("too many", "more than", "limit exceeded", "response size", "query returned", "exceed")


def plain(value: Any) -> Any:
    """Event arguments as JSON-able values: bytes as 0x hex, structs as objects."""
    if isinstance(value, (bytes, HexBytes)):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _bytes(value: str | bytes) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def _int(value: str | int) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _hex(value: str | bytes) -> str:
    return value.lower() if isinstance(value, str) else "0x" + bytes(value).hex()


@lru_cache(maxsize=4_096)
def _checksum(address: str) -> str:
    return str(to_checksum_address(address))


def _abi_type(item: Mapping[str, Any]) -> str:
    """The canonical type of an ABI input (tuples spelled out)."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + kind[len("tuple"):]
    return kind


def _shape(item: Mapping[str, Any], value: Any) -> Any:
    """A decoded value as ``web3``'s event decoding gives it, made JSON-able (see :func:`plain`): structs as
    objects by component name, addresses checksummed, bytes as 0x hex."""
    kind = str(item["type"])
    if kind.endswith("]"):
        inner = dict(item, type=kind[:kind.rindex("[")])
        return [_shape(inner, v) for v in value]
    if kind == "tuple":
        return {c["name"]: _shape(c, v) for c, v in zip(item["components"], value, strict=True)}
    if kind == "address":
        return _checksum(value)
    return plain(value)


def _table(model: type[SQLModel]) -> Table:
    """The table of ``model``: bulk inserts go through SQLAlchemy Core (executemany), not the ORM's unit of work."""
    return cast(Table, getattr(model, "__table__"))


def _word_decoder(kind: str) -> Callable[[bytes], Any] | None:
    """A decoder of one 32-byte word of an elementary static type (JSON-able, as :func:`_shape` gives it), or
    None for other types (decoded by eth_abi)."""
    if "[" in kind or "(" in kind:
        return None
    if kind == "address":
        return lambda w: _checksum("0x" + w[12:].hex())
    if kind == "bool":
        return lambda w: w[31] == 1
    if kind.startswith("uint"):
        return lambda w: int.from_bytes(w, "big")
    if kind.startswith("int"):
        return lambda w: int.from_bytes(w, "big", signed=True)
    if kind.startswith("bytes") and kind != "bytes":
        size = int(kind[5:])
        return lambda w: "0x" + w[:size].hex()
    return None


class EventDecoder:
    """Decodes one event's logs straight from the ABI (what ``ContractEvent.process_log`` does, without its
    per-call formatting machinery): words of elementary static types are read directly, the rest by eth_abi."""

    def __init__(self, contract: str, abi: Mapping[str, Any]) -> None:
        self.contract = contract
        self.name = str(abi["name"])
        inputs = list(abi["inputs"])
        self.indexed = [i for i in inputs if i.get("indexed")]
        self.data = [i for i in inputs if not i.get("indexed")]
        self.data_types = [_abi_type(i) for i in self.data]
        self.order = [str(i["name"]) for i in inputs]
        self.topic_decoders = [_word_decoder(_abi_type(i)) or (lambda w: "0x" + w.hex()) for i in self.indexed]
        words = [_word_decoder(t) for t in self.data_types]
        self.data_words: list[Callable[[bytes], Any]] | None = (
            cast(list[Callable[[bytes], Any]], words) if all(w is not None for w in words) else None)

    def args(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if len(topics) != len(self.indexed) + 1:
            raise ValueError(f"{self.name}: {len(topics) - 1} indexed topics, the ABI has {len(self.indexed)}")
        for item, read, topic in zip(self.indexed, self.topic_decoders, topics[1:], strict=True):
            out[item["name"]] = read(topic)  # dynamic indexed values are their hash: bytes32
        if self.data_words is not None:
            if len(data) != 32 * len(self.data_words):
                raise ValueError(f"{self.name}: {len(data)} bytes of data, the ABI has {len(self.data_words)} words")
            for n, (item, read) in enumerate(zip(self.data, self.data_words, strict=True)):
                out[item["name"]] = read(data[32 * n:32 * n + 32])
        else:
            for item, value in zip(self.data, abi_decode(self.data_types, data), strict=True):
                out[item["name"]] = _shape(item, value)
        return {name: out[name] for name in self.order}


class Indexer:
    def __init__(self, ctx: ChainContext, engine: Engine, confirmations: int = 0, batch_blocks: int = 2_000) -> None:
        self.ctx = ctx
        self.engine = engine
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        self.start = max(ctx.deployment.block_number - 1, 0)
        self._lock = threading.Lock()
        self._span = batch_blocks  # the current eth_getLogs range (shrinks on "too many results")
        #: The block the index reflects as this indexer last read or wrote its cursor (None before its first round):
        #: readers in this process need no query for it.
        self.indexed: int | None = None
        self._decoders: dict[tuple[str, bytes], EventDecoder] = {}
        for name in SUITE:
            contract = contract_at(ctx.w3, name, ctx.deployment.contracts[name])
            for item in cast(list[Any], contract.abi):
                if item.get("type") == "event" and not item.get("anonymous"):
                    key = (str(contract.address).lower(), bytes(event_abi_to_log_topic(item)))
                    self._decoders[key] = EventDecoder(name, item)
        self._addresses = sorted(self.ctx.suite_addresses)

    # cursor -----------------------------------------------------------------------------------------------------
    def cursor(self, db: Session) -> IndexCursor:
        found = db.get(IndexCursor, CURSOR)
        return found or IndexCursor(name=CURSOR, block_number=self.start, block_hash="")

    def _chain_hash(self, number: int) -> str | None:
        try:
            return "0x" + bytes(self.ctx.w3.eth.get_block(number)["hash"]).hex()  # type: ignore[arg-type]
        except BlockNotFound:
            return None

    # one round --------------------------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Indexes what is new (below the confirmation depth); returns the number of events stored."""
        with self._lock, Session(self.engine) as db:
            cur = self.cursor(db)
            self.indexed = int(cur.block_number) if cur.block_hash else None
            if cur.block_hash and self._chain_hash(cur.block_number) != cur.block_hash:
                cur = self._roll_back(db, cur)
                self.indexed = int(cur.block_number)
            target = self.ctx.w3.eth.block_number - self.confirmations
            stored = 0
            while cur.block_number < target:
                first = cur.block_number + 1
                logs, upto = self._fetch(first, min(cur.block_number + self._span, target))
                block_hash = self._chain_hash(upto) or ""
                stored += self._store_range(db, first, upto, block_hash, logs)
                cur = IndexCursor(name=CURSOR, block_number=upto, block_hash=block_hash)
                db.merge(cur)
                db.commit()
                self.indexed = upto
            return stored

    def _fetch(self, first: int, last: int) -> tuple[list[dict[str, Any]], int]:
        """The suite's logs of blocks ``first..last`` (or of a shorter range when the node refuses that many
        results); returns them with the last block covered."""
        while True:
            try:
                logs = self._get_logs(first, last)
            except ValueError as exc:
                if last == first or not any(word in str(exc).lower() for word in TOO_MANY):
                    raise
                self._span = max(1, (last - first + 1) // 2)
                last = first + self._span - 1
                log.info("the node refused a log query as too large: %s blocks per query now", self._span)
                continue
            if self._span < self.batch_blocks:
                self._span = min(self.batch_blocks, self._span * 2)
            return logs, last

    def _get_logs(self, first: int, last: int) -> list[dict[str, Any]]:
        w3 = self.ctx.w3
        if isinstance(w3.provider, EthereumTesterProvider):  # the embedded chain: no JSON-RPC underneath
            found = w3.eth.get_logs({"fromBlock": first, "toBlock": last,
                                     "address": self._addresses})  # type: ignore[typeddict-item]
            return [dict(entry) for entry in found]
        # JSON-RPC: the raw result, decoded here (web3's formatting of each log costs more than the decoding)
        query = {"fromBlock": hex(first), "toBlock": hex(last), "address": self._addresses}
        response = w3.provider.make_request(cast(Any, "eth_getLogs"), [query])
        if "error" in response:
            error = response["error"]
            raise ValueError(error.get("message", str(error)) if isinstance(error, Mapping) else str(error))
        return cast(list[dict[str, Any]], response["result"])

    def _store_range(self, db: Session, first: int, last: int, last_hash: str, logs: list[dict[str, Any]]) -> int:
        """Writes one range's events, their projections and block hashes (committed by the caller, at once)."""
        rows: list[dict[str, Any]] = []
        blocks: dict[int, str] = {}
        for entry in logs:
            topics = [_bytes(t) for t in entry["topics"]]
            if not topics or entry.get("removed"):
                continue
            decoder = self._decoders.get((_hex(entry["address"]), topics[0]))
            if decoder is None:
                continue
            number = _int(entry["blockNumber"])
            blocks[number] = _hex(entry["blockHash"])
            rows.append({"block_number": number, "log_index": _int(entry["logIndex"]),
                         "tx_hash": _hex(entry["transactionHash"]), "contract": decoder.contract,
                         "event": decoder.name, "args": decoder.args(topics, _bytes(entry["data"]))})
        rows.sort(key=lambda r: (r["block_number"], r["log_index"]))
        projector = Projector(db)
        for row in rows:
            projector.apply(row["event"], row["args"], row["block_number"], row["tx_hash"])
            row["args"] = json.dumps(row["args"])
        blocks[last] = last_hash
        db.execute(delete(IndexedBlock).where(col(IndexedBlock.number) >= first, col(IndexedBlock.number) <= last))
        db.execute(_table(IndexedBlock).insert(), [{"number": n, "hash": h} for n, h in sorted(blocks.items())])
        if rows:
            db.execute(_table(ChainEvent).insert(), rows)
        projector.finish()
        return len(rows)

    def _roll_back(self, db: Session, cur: IndexCursor) -> IndexCursor:
        """Finds the last indexed block the chain still has, drops what came after and projects again."""
        fork = self.start
        for block in db.exec(select(IndexedBlock).order_by(col(IndexedBlock.number).desc())).all():
            if self._chain_hash(block.number) == block.hash:
                fork = block.number
                break
        log.warning("reorganisation: block %s changed; rolling back to %s", cur.block_number, fork)
        db.execute(delete(ChainEvent).where(col(ChainEvent.block_number) > fork))
        db.execute(delete(IndexedBlock).where(col(IndexedBlock.number) > fork))
        clear_projections(db)
        projector = Projector(db)
        for row in db.exec(select(ChainEvent).order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))):
            projector.apply(row.event, json.loads(row.args), row.block_number, row.tx_hash)
        projector.finish()
        cur = IndexCursor(name=CURSOR, block_number=fork, block_hash=self._chain_hash(fork) or "")
        db.merge(cur)
        db.commit()
        return cur

    def rebuild(self) -> int:
        """Drops the index and builds it again from the chain alone."""
        with self._lock, Session(self.engine) as db:
            clear_projections(db)
            db.execute(delete(ChainEvent))
            db.execute(delete(IndexedBlock))
            db.execute(delete(IndexCursor))
            db.commit()
            self.indexed = None
        return self.run_once()

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except NODE_DOWN as exc:
                log.warning("node unreachable, indexing later: %s", exc)
            except Exception:  # noqa: BLE001 - the loop must survive; the error is logged
                log.exception("indexer round failed")
            stop.wait(interval)


def clear_projections(db: Session) -> None:
    for table in reversed(INDEX_TABLES):
        db.execute(delete(table))


def indexed_block(db: Session) -> int:
    found = db.get(IndexCursor, CURSOR)
    return int(found.block_number) if found else 0


# projections ------------------------------------------------------------------------------------------------------
def summary(roles: int, suspended: int, revoked: int) -> int:
    """The registry's summary status (ParticipantRegistry._summary)."""
    held = roles & ~revoked
    if held & ~suspended:
        return int(ParticipantStatus.ACTIVE)
    if held:
        return int(ParticipantStatus.SUSPENDED)
    return int(ParticipantStatus.REVOKED if revoked else ParticipantStatus.ACTIVE)



class Projector:
    """Applies events to the index tables within one database transaction. The records events update are read
    once and kept (no flush and query per event); records only ever appended are inserted in bulk at the end."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self._rows: dict[tuple[type[SQLModel], tuple[Any, ...]], SQLModel | None] = {}
        self._appended: dict[type[SQLModel], list[dict[str, Any]]] = {}

    @staticmethod
    def _key(obj: SQLModel) -> tuple[Any, ...]:
        return tuple(sa_inspect(type(obj)).primary_key_from_instance(obj))

    def get(self, model: type[T], key: Any) -> T | None:
        k = (model, key if isinstance(key, tuple) else (key,))
        if k not in self._rows:
            with self.db.no_autoflush:
                self._rows[k] = self.db.get(model, key)
        return cast("T | None", self._rows[k])

    def put(self, obj: T) -> T:
        """Inserts ``obj`` or overwrites the record with its key (``Session.merge``)."""
        key = self._key(obj)
        found = self.get(type(obj), key)
        if found is None:
            self.db.add(obj)
            self._rows[(type(obj), key)] = obj
            return obj
        for column in sa_inspect(type(obj)).columns:
            setattr(found, column.key, getattr(obj, column.key))
        return found

    def touch(self, obj: SQLModel) -> None:
        """``obj`` (from :meth:`get` or :meth:`put`) changed: the session tracks it already."""

    def remove(self, obj: SQLModel) -> None:
        if obj in self.db.new:
            self.db.expunge(obj)
        else:
            self.db.delete(obj)
        self._rows[(type(obj), self._key(obj))] = None

    def append(self, model: type[SQLModel], **values: Any) -> None:
        """A record only ever inserted (transfers, evaluations...): inserted in bulk by :meth:`finish`."""
        self._appended.setdefault(model, []).append(values)

    def finish(self) -> None:
        """Writes what is pending: the updated records, then the appended ones in bulk."""
        self.db.flush()
        for model, rows in self._appended.items():
            self.db.execute(_table(model).insert(), rows)
        self._appended.clear()

    def balance(self, lot_id: int, holder: str, delta: int) -> None:
        row = self.get(IxBalance, (lot_id, holder)) or self.put(IxBalance(lot_id=lot_id, holder=holder, grams=0))
        row.grams = int(row.grams) + delta

    def apply(self, name: str, a: dict[str, Any], block: int, tx_hash: str) -> None:
        """Applies one event (its decoded arguments ``a``) to the index tables."""
        if name == "ParticipantRegistered":
            self.put(IxParticipant(address=a["account"], roles=a["roles"], status=int(ParticipantStatus.ACTIVE),
                                   authority=a["authority"], registered_block=block))
        elif name in ("ParticipantRolesChanged", "ParticipantStatusChanged"):
            p = self.get(IxParticipant, a["account"])
            if p:
                if name == "ParticipantRolesChanged":
                    p.roles = a["roles"]
                else:  # the status of the roles in ``roles`` changed (as the registry's suspend / reinstate / revoke)
                    mask, status = int(a["roles"]), ParticipantStatus(a["status"])
                    target = mask & ~int(p.revoked_roles)
                    if status == ParticipantStatus.SUSPENDED:
                        p.suspended_roles = int(p.suspended_roles) | target
                    elif status == ParticipantStatus.ACTIVE:
                        p.suspended_roles = int(p.suspended_roles) & ~target
                    elif status == ParticipantStatus.REVOKED:
                        p.revoked_roles = int(p.revoked_roles) | target
                        p.suspended_roles = int(p.suspended_roles) & ~target
                p.status = summary(int(p.roles), int(p.suspended_roles), int(p.revoked_roles))
                self.touch(p)
        elif name == "FacilityRegistered":
            self.put(IxFacility(facility_id=a["facilityId"], operator=a["operator"], valid_from=a["validFrom"],
                                valid_until=a["validUntil"]))
        elif name in ("FacilityRenewed", "FacilityRevoked"):
            f = self.get(IxFacility, a["facilityId"])
            if f:
                if name == "FacilityRenewed":
                    f.valid_until = a["validUntil"]
                else:
                    f.revoked = True
                self.touch(f)
        elif name == "LotApplied":
            app = a["application"]
            self.put(IxLot(lot_id=a["lotId"], recycler=a["recycler"], material=app["material"],
                           feedstock=app["feedstock"], mass_grams=app["massGrams"], facility_id=app["facilityId"],
                           status=int(LotStatus.PENDING), applied_block=block))
        elif name in ("LotCertified", "LotRejected", "LotRevoked"):
            lot = self.get(IxLot, a["lotId"])
            if lot:
                lot.status = int({"LotCertified": LotStatus.CERTIFIED, "LotRejected": LotStatus.REJECTED,
                                  "LotRevoked": LotStatus.REVOKED}[name])
                self.touch(lot)
            if name == "LotCertified":
                self.balance(a["lotId"], a["recycler"], a["massGrams"])
        elif name == "QuantityTransferred":
            self.balance(a["lotId"], a["from"], -a["grams"])
            self.balance(a["lotId"], a["to"], a["grams"])
            self.append(IxTransfer, lot_id=a["lotId"], sender=a["from"], recipient=a["to"], grams=a["grams"],
                        shipment_ref=a["shipmentRef"], block_number=block, tx_hash=tx_hash)
        elif name == "QuantityConsumed":
            self.balance(a["lotId"], a["holder"], -a["grams"])
            alloc = self.get(IxAllocation, (a["claimId"], a["lotId"]))
            if alloc:  # a claim may allocate the same lot more than once: one row, their sum
                alloc.grams += a["grams"]
                self.touch(alloc)
            else:
                self.put(IxAllocation(claim_id=a["claimId"], lot_id=a["lotId"], holder=a["holder"], grams=a["grams"]))
        elif name == "QuantityReleased":
            self.balance(a["lotId"], a["holder"], a["grams"])
            alloc = self.get(IxAllocation, (a["claimId"], a["lotId"]))
            if alloc:
                alloc.released = True
                self.touch(alloc)
        elif name == "ClaimOpened":
            r = a["request"]
            self.put(IxClaim(claim_id=a["claimId"], claimant=a["claimant"], battery_model=a["batteryModel"],
                             plant=r["plant"], period_start=r["periodStart"], period_end=r["periodEnd"],
                             custody_model=r["custodyModel"], status=int(ClaimStatus.OPEN), opened_block=block))
        elif name in ("ClaimAttested", "ClaimRejected"):
            c = self.get(IxClaim, a["claimId"])
            if c:
                c.status = int(ClaimStatus.ATTESTED if name == "ClaimAttested" else ClaimStatus.REJECTED)
                self.touch(c)
        elif name == "ModelRegistered":
            self.put(IxModel(model_id=a["modelId"], manufacturer=a["manufacturer"], category=a["category"],
                             data_hash=a["dataHash"]))
        elif name == "BatchAnchored":
            self.put(IxBatch(batch_id=a["batchId"], model_id=a["modelId"], manufacturer=a["manufacturer"],
                             count=a["count"], root=a["root"]))
        elif name == "BatteryRegistered":
            self.put(IxBattery(battery_id=a["batteryId"], model_id=a["modelId"], manufacturer=a["manufacturer"],
                               batch_id=a["batchId"], status=0, operator=a["manufacturer"], sequence=0))
        elif name == "BatteryEventRecorded":
            b = self.get(IxBattery, a["batteryId"])
            if b:
                b.status, b.operator, b.sequence = a["status"], a["operator"], a["sequence"]
                self.touch(b)
            self.put(IxBatteryEvent(battery_id=a["batteryId"], sequence=a["sequence"], status=a["status"],
                                    actor=a["actor"], operator=a["operator"], link=a["link"],
                                    evidence_hash=a["evidenceHash"], block_number=block, tx_hash=tx_hash))
        elif name == "BatteryEvaluated":
            self.append(IxEvaluation, battery_id=a["batteryId"], grade=a["grade"],
                        policy_version=a["policyVersion"], evaluator=a["evaluator"], device=a["device"],
                        state_of_health_bps=a["stateOfHealthBps"], measured_at=a["measuredAt"], block_number=block)
        elif name == "InspectionRecorded":
            self.append(IxInspection, battery_id=a["batteryId"], kind=a["kind"], body=a["body"],
                        passed=a["passed"], valid_until=a["validUntil"], block_number=block)
        elif name == "ShipmentLegRecorded":
            self.append(IxShipment, battery_id=a["batteryId"], transporter=a["transporter"], sender=a["from"],
                        recipient=a["to"], soc_bps=a["socBps"], packaging_class=a["packagingClass"],
                        block_number=block)
        elif name == "SiteRegistered":
            self.put(IxSite(site_id=a["siteId"], operator=a["operator"], capacity_wh=a["capacityWh"], stored_wh=0))
        elif name in ("BatteryStored", "BatteryReleased"):
            site = self.get(IxSite, a["siteId"])
            if site:
                site.stored_wh = a["storedWh"]
                self.touch(site)
            if name == "BatteryStored":
                self.put(IxStored(site_id=a["siteId"], battery_id=a["batteryId"], energy_wh=a["energyWh"]))
            else:
                stored = self.get(IxStored, (a["siteId"], a["batteryId"]))
                if stored:
                    self.remove(stored)

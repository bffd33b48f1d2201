"""Database tables (SQLModel). The chain is the truth: the ``ix_*`` tables are an index rebuildable from it; the
others hold what the chain does not: sign-in state, the relay outbox, documents, applications and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def big(**kw: Any) -> Any:
    return Field(sa_type=BigInteger, **kw)


def amount(**kw: Any) -> Any:
    """uint128/uint256 quantities: exact decimal columns (no 64-bit overflow)."""
    return Field(sa_type=Numeric(78, 0), **kw)


# --- sign-in ---------------------------------------------------------------------------------------------------
class SignInNonce(SQLModel, table=True):
    __tablename__ = "sign_in_nonce"
    nonce: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class ApiSession(SQLModel, table=True):
    __tablename__ = "api_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    address: str = Field(index=True, max_length=42)
    chain_id: int = big()
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ended_at: datetime | None = None


# --- relay outbox ----------------------------------------------------------------------------------------------
class RelayRequest(SQLModel, table=True):
    """A signed forward request the API accepted; the relayer sends each exactly once."""

    __tablename__ = "relay_request"
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str | None = Field(default=None, unique=True, max_length=200)
    digest: str = Field(unique=True, max_length=66)
    signer: str = Field(index=True, max_length=42)
    target: str = Field(max_length=42)
    gas: int = big()
    forwarder_nonce: int = amount()
    deadline: int = big()
    data: str = Field(sa_column=Column(Text, nullable=False))
    signature: str = Field(max_length=200)
    status: str = Field(default="queued", index=True, max_length=16)
    tx_hash: str | None = Field(default=None, max_length=66)
    raw_tx: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    block_number: int | None = big(default=None)
    error_name: str | None = Field(default=None, max_length=200)
    error_args: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


# --- documents and applications --------------------------------------------------------------------------------
class Document(SQLModel, table=True):
    __tablename__ = "document"
    hash: str = Field(primary_key=True, max_length=66)
    media_type: str = Field(max_length=100)
    size: int = big()
    tier: str = Field(max_length=32)
    uploader: str = Field(index=True, max_length=42)
    created_at: datetime = Field(default_factory=utcnow)


class DocumentRead(SQLModel, table=True):
    """Audit log: who read which restricted document when."""

    __tablename__ = "document_read"
    id: int | None = Field(default=None, primary_key=True)
    hash: str = Field(index=True, max_length=66)
    reader: str = Field(max_length=42)
    tier: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow)


class RegistrationApplication(SQLModel, table=True):
    __tablename__ = "registration_application"
    id: int | None = Field(default=None, primary_key=True)
    applicant: str = Field(index=True, max_length=42)
    authority: str = Field(index=True, max_length=16)
    roles: int = big()
    documents: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of document hashes
    profile_hash: str = Field(max_length=66)
    status: str = Field(default="submitted", index=True, max_length=24)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Dossier(SQLModel, table=True):
    """Documents behind a lot certification or a usage claim (lab reports, source batteries, bill of materials)."""

    __tablename__ = "dossier"
    __table_args__ = (UniqueConstraint("kind", "subject_id"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    subject_id: int = amount()
    owner: str = Field(max_length=42)
    documents: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


# --- chain index -----------------------------------------------------------------------------------------------
class IndexCursor(SQLModel, table=True):
    __tablename__ = "ix_cursor"
    name: str = Field(primary_key=True, max_length=32)
    block_number: int = big()
    block_hash: str = Field(max_length=66)


class IndexedBlock(SQLModel, table=True):
    __tablename__ = "ix_block"
    number: int = big(primary_key=True)
    hash: str = Field(max_length=66)


class ChainEvent(SQLModel, table=True):
    __tablename__ = "ix_event"
    __table_args__ = (UniqueConstraint("block_number", "log_index"),)
    id: int | None = Field(default=None, primary_key=True)
    block_number: int = big(index=True)
    log_index: int
    tx_hash: str = Field(max_length=66)
    contract: str = Field(max_length=40)
    event: str = Field(max_length=40)
    args: str = Field(sa_column=Column(Text, nullable=False))


class IxParticipant(SQLModel, table=True):
    """A participant; ``status`` is the registry's summary of the per-role statuses (each role's status is set by
    the authority administering it)."""

    __tablename__ = "ix_participant"
    address: str = Field(primary_key=True, max_length=42)
    roles: int = big()
    status: int
    suspended_roles: int = big(default=0)
    revoked_roles: int = big(default=0)
    authority: str = Field(max_length=42)
    registered_block: int = big()


class IxFacility(SQLModel, table=True):
    __tablename__ = "ix_facility"
    facility_id: str = Field(primary_key=True, max_length=66)
    operator: str = Field(index=True, max_length=42)
    valid_from: int = big()
    valid_until: int = big()
    revoked: bool = False


class IxLot(SQLModel, table=True):
    __tablename__ = "ix_lot"
    lot_id: int = big(primary_key=True)
    recycler: str = Field(index=True, max_length=42)
    material: int = Field(index=True)
    feedstock: int
    mass_grams: int = amount()
    facility_id: str = Field(max_length=66)
    status: int = Field(index=True)
    applied_block: int = big()


class IxBalance(SQLModel, table=True):
    __tablename__ = "ix_balance"
    lot_id: int = big(primary_key=True)
    holder: str = Field(primary_key=True, max_length=42)
    grams: int = amount()


class IxTransfer(SQLModel, table=True):
    __tablename__ = "ix_transfer"
    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = big(index=True)
    sender: str = Field(max_length=42)
    recipient: str = Field(max_length=42)
    grams: int = amount()
    shipment_ref: str = Field(max_length=66)
    block_number: int = big()
    tx_hash: str = Field(max_length=66)


class IxClaim(SQLModel, table=True):
    __tablename__ = "ix_claim"
    claim_id: int = big(primary_key=True)
    claimant: str = Field(index=True, max_length=42)
    battery_model: str = Field(index=True, max_length=66)
    plant: str = Field(max_length=66)
    period_start: int = big()
    period_end: int = big()
    custody_model: int
    status: int = Field(index=True)
    opened_block: int = big()


class IxAllocation(SQLModel, table=True):
    __tablename__ = "ix_allocation"
    claim_id: int = big(primary_key=True)
    lot_id: int = big(primary_key=True)
    holder: str = Field(max_length=42)
    grams: int = amount()
    released: bool = False


class IxModel(SQLModel, table=True):
    __tablename__ = "ix_model"
    model_id: str = Field(primary_key=True, max_length=66)
    manufacturer: str = Field(index=True, max_length=42)
    category: int
    data_hash: str = Field(max_length=66)


class IxBatch(SQLModel, table=True):
    __tablename__ = "ix_batch"
    batch_id: int = big(primary_key=True)
    model_id: str = Field(max_length=66)
    manufacturer: str = Field(max_length=42)
    count: int = big()
    root: str = Field(max_length=66)


class IxBattery(SQLModel, table=True):
    __tablename__ = "ix_battery"
    battery_id: str = Field(primary_key=True, max_length=66)
    model_id: str = Field(index=True, max_length=66)
    manufacturer: str = Field(max_length=42)
    batch_id: int = big()
    status: int = Field(index=True)
    operator: str = Field(index=True, max_length=42)
    sequence: int = big()


class IxBatteryEvent(SQLModel, table=True):
    __tablename__ = "ix_battery_event"
    battery_id: str = Field(primary_key=True, max_length=66)
    sequence: int = big(primary_key=True)
    status: int
    actor: str = Field(max_length=42)
    operator: str = Field(max_length=42)
    link: str = Field(max_length=66)
    evidence_hash: str = Field(max_length=66)
    block_number: int = big()
    tx_hash: str = Field(max_length=66)


class IxEvaluation(SQLModel, table=True):
    __tablename__ = "ix_evaluation"
    id: int | None = Field(default=None, primary_key=True)
    battery_id: str = Field(index=True, max_length=66)
    grade: int
    policy_version: int
    evaluator: str = Field(max_length=42)
    device: str = Field(max_length=42)
    state_of_health_bps: int
    measured_at: int = big()
    block_number: int = big()


class IxInspection(SQLModel, table=True):
    __tablename__ = "ix_inspection"
    id: int | None = Field(default=None, primary_key=True)
    battery_id: str = Field(index=True, max_length=66)
    kind: int
    body: str = Field(max_length=42)
    passed: bool
    valid_until: int = big()
    block_number: int = big()


class IxShipment(SQLModel, table=True):
    __tablename__ = "ix_shipment"
    id: int | None = Field(default=None, primary_key=True)
    battery_id: str = Field(index=True, max_length=66)
    transporter: str = Field(max_length=42)
    sender: str = Field(max_length=42)
    recipient: str = Field(max_length=42)
    soc_bps: int
    packaging_class: int
    block_number: int = big()


class IxSite(SQLModel, table=True):
    __tablename__ = "ix_site"
    site_id: str = Field(primary_key=True, max_length=66)
    operator: str = Field(max_length=42)
    capacity_wh: int = big()
    stored_wh: int = big(default=0)


class IxStored(SQLModel, table=True):
    __tablename__ = "ix_stored"
    site_id: str = Field(primary_key=True, max_length=66)
    battery_id: str = Field(primary_key=True, max_length=66)
    energy_wh: int = big()


#: The index tables, in an order safe for clearing.
INDEX_TABLES = [IxParticipant, IxFacility, IxLot, IxBalance, IxTransfer, IxClaim, IxAllocation, IxModel, IxBatch,
                IxBattery, IxBatteryEvent, IxEvaluation, IxInspection, IxShipment, IxSite, IxStored]

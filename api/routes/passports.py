"""What a person or a verifier opens without signing in, beside ``/v1/public/``: a battery's public passport page
``/p/{identifier}`` (the QR label's target), the proof bundle an EU importer verifies offline, the verification page
``/verify`` (static: it runs the verifier in the browser) and the JSON-LD context of the credentials."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import Chain
from api.problems import ApiProblem, responses
from chain_client.battery_index import BatteryIndex
from chain_client.battery_pass import export_battery_pass
from chain_client.errors import LedgerError
from chain_client.passport_documents import PassportDocuments
from chain_client.passport_ids import from_urn
from chain_client.passport_page import render_passport_page
from chain_client.proofs import battery_bundle_from_index, bundle_bytes

router = APIRouter(tags=["public"])
CONTEXT_FILE = FilePath(__file__).resolve().parents[2] / "chain_client" / "schemas" / "credentials-v1.jsonld"
Identifier = Annotated[str, Path(min_length=1, max_length=200)]


def _identifier(text: str) -> str:
    """An identifier as typed, or its URN form (``urn:bledger:...``, what the QR label carries)."""
    text = text.strip()
    if text.lower().startswith("urn:"):
        try:
            return from_urn(text)
        except ValueError as exc:
            raise ApiProblem(404, "unknown-battery", str(exc)) from None
    if not text:
        raise ApiProblem(404, "unknown-battery", "an empty identifier names no battery")
    return text


def _data_dir(request: Request) -> FilePath:
    """The portal's battery data folder, which must hold a battery index: a read never creates one."""
    data: FilePath = request.app.state.settings.data_dir
    if not (data / "index.sqlite").is_file():
        raise ApiProblem(404, "no-battery-data", f"this portal has no battery index in {data}: it holds no passports")
    return data


@router.get("/p/{identifier}", response_class=HTMLResponse, responses=responses(404, 503))
def passport_page(identifier: Identifier, chain: Chain, request: Request) -> HTMLResponse:
    """A battery's public passport (Annex XIII point 1 data, recycled content included) as a page."""
    ident = _identifier(identifier)
    try:
        with PassportDocuments(_data_dir(request)) as docs:
            passport = export_battery_pass(chain.ledger, docs, ident)
    except (LedgerError, ValueError) as exc:  # unknown, never registered, or not an identifier at all
        raise ApiProblem(404, "unknown-battery", str(exc)) from None
    return HTMLResponse(render_passport_page(passport.view("public")))


@router.get("/v1/public/batteries/{identifier}/proof", response_class=Response,
            responses={200: {"content": {"application/json": {"schema": {"type": "object"}}},
                             "description": "The proof bundle (canonical JSON, see "
                                            "chain_client/schemas/proof-bundle.schema.json)"},
                       **responses(404, 503)})
def battery_proof(identifier: Identifier, chain: Chain, request: Request) -> Response:
    """Everything an importer needs to verify this battery's recycled content offline, with account and storage
    proofs against a block header. Served byte for byte as built: the verifiers accept only the canonical form."""
    ident = _identifier(identifier)
    index = BatteryIndex(_data_dir(request) / "index.sqlite")
    try:
        bundle = battery_bundle_from_index(chain.w3, chain.deployment, index, ident)
    except (LedgerError, ValueError) as exc:
        raise ApiProblem(404, "no-proof", str(exc)) from None
    finally:
        index.close()
    return Response(content=bundle_bytes(bundle), media_type="application/json")


class JsonLdResponse(Response):
    media_type = "application/ld+json"


@router.get("/credentials/v1", response_class=JsonLdResponse,
            responses={200: {"content": {"application/ld+json": {"schema": {"type": "object"}}}}})
def credentials_context() -> JsonLdResponse:
    """The JSON-LD context the project's verifiable credentials name."""
    return JsonLdResponse(content=CONTEXT_FILE.read_bytes())

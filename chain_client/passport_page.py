"""The public passport page (``/p/{identifier}``) and the QR code label that leads to it.

:func:`render_passport_page` turns a Battery Pass export (``BatteryPassExport.view("public")``) into one HTML page,
pure Python with every value escaped. It prints only public fields (Annex XIII point 1): given a fuller view, it
drops what the public tier may not see, so a page can never leak legitimate-interest or authority data.
The ``{identifier}`` of the URL is the battery's ``batteryPassportIdentifier`` (the URN, URL-safe as it is);
``chain_client.passport_ids.from_urn`` gives back the ISO/IEC 15459 identifier.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from urllib.parse import quote
from typing import Any

import segno

from chain_client.battery_pass import RESTRICTED
from chain_client.passport_ids import to_urn

_LEDGER_PUBLIC = ("batteryModel", "modelDataHash", "manufacturerAccount", "passportClosed", "warrantyUntil",
                  "article8Exemption",
                  "extinguishingAgent", "carbonFootprintStudyHash", "recycledContentClaim", "batteryId",
                  "registeredInBatch", "puttingIntoServiceKnown")

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ccd}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee}
th{width:40%;font-weight:600}.muted{color:#667}.ok{color:#17692f}.bad{color:#a11}code{font-size:.85em}
"""


def passport_url(base: str, identifier_text: str) -> str:
    """``{base}/p/{batteryPassportIdentifier}``."""
    return f"{base.rstrip('/')}/p/{to_urn(identifier_text)}"


def public_only(view: dict[str, Any]) -> dict[str, Any]:
    """The public part of an export view (restricted fields removed, whatever tier the view was made for)."""
    groups = {g: {k: v for k, v in obj.items() if k not in RESTRICTED.get(g, {})}
              for g, obj in view.items() if g != "BatteryLedger"}
    groups["BatteryLedger"] = {k: v for k, v in view.get("BatteryLedger", {}).items() if k in _LEDGER_PUBLIC}
    return groups


def _rows(pairs: list[tuple[str, Any]]) -> str:
    return "<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{_value(v)}</td></tr>" for k, v in pairs
                               if v not in (None, "", [])) + "</table>"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, str) and v.startswith(("https://", "http://")):
        return f'<a href="{escape(v, quote=True)}">{escape(v)}</a>'
    if isinstance(v, dict):
        return escape(", ".join(str(x) for x in v.values()))
    if isinstance(v, list):
        return escape("; ".join(str(x) for x in v))
    return escape(str(v))


def _address(a: dict[str, Any]) -> str:
    return ", ".join(str(a.get(k, "")) for k in ("streetAddress", "postalCode", "addressCountry") if a.get(k))


def render_passport_page(view: dict[str, Any]) -> str:
    """One HTML page of a battery's public passport."""
    v = public_only(view)
    g, c = v["GeneralProductInformation"], v["Circularity"]
    m, p = v["MaterialComposition"], v["PerformanceAndDurability"]["batteryTechicalProperties"]
    cf, lab, dd, led = v["CarbonFootprint"], v["Labeling"], v["SupplyChainDueDiligence"], v["BatteryLedger"]
    maker, operator = g["manufacturerInformation"], g["operatorInformation"]
    title = f"{led.get('batteryModel', '')} ({g['batteryCategory'].upper()} battery)"
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">",
        f"<title>Battery passport {escape(g['productIdentifier'])}</title><style>{STYLE}</style></head><body>",
        f"<h1>Battery passport: {escape(title)}</h1>",
        f"<p class=\"muted\"><code>{escape(g['batteryPassportIdentifier'])}</code> &middot; Battery Pass data model "
        "1.2.0 &middot; public information (Regulation (EU) 2023/1542, Annex XIII point 1)</p>",
        "<h2>General product information</h2>",
        _rows([("Product identifier", g["productIdentifier"]), ("Category", g["batteryCategory"]),
               ("Manufacturer", f"{maker['contactName']} ({maker['identifier']}), "
                                f"{_address(maker['postalAddress'])}"),
               ("Manufacturer web address", maker.get("webAddress")),
               ("Manufacturing place", _address(g["manufacturingPlace"])),
               ("Manufacturing date", g["manufacturingDate"]), ("Mass", f"{g['batteryMass']} kg"),
               ("Economic operator", f"{operator['contactName']} ({operator['identifier']})"),
               ("Put into service", g["puttingIntoService"] if led.get("puttingIntoServiceKnown", True)
                else "not yet"),
               ("Commercial warranty until", led.get("warrantyUntil")),
               ("Passport closed", led.get("passportClosed"))]),
        "<h2>Recycled content</h2>",
    ]
    claim = led.get("recycledContentClaim")
    if c["recycledContent"]:
        parts.append("<table><tr><th>Material</th><th>Pre-consumer share</th><th>Post-consumer share</th></tr>" +
                     "".join(f"<tr><td>{escape(r['recycledMaterial'])}</td><td>{r['preConsumerShare']:.2f} %</td>"
                             f"<td>{r['postConsumerShare']:.2f} %</td></tr>" for r in c["recycledContent"]) +
                     "</table>")
    elif claim and claim["tainted"]:
        parts.append(f'<p class="bad">Usage claim #{claim["claimId"]} no longer covers this battery: certificate lot '
                     f'#{claim["revokedLot"]} it consumed was revoked. No recycled content is stated.</p>')
    else:
        parts.append("<p>No attested usage claim covers this battery.</p>")
    # an importer checks the claim without trusting this page: proofs verified in the browser (web/verify/)
    parts.append(f'<p><a href="/verify?battery={quote(g["productIdentifier"], safe="")}">Verify the recycled '
                 "content yourself</a> (proofs checked in your browser against the ministries' trust anchors).</p>")
    if claim:
        parts.append(f"<p>Usage claim #{claim['claimId']} ({escape(claim['status'])}, chain of custody "
                     f"{escape(claim['custodyModel'].replace('_', ' '))}), proved on the ledger.</p>")
        parts.append(_rows([(f"EU Article 8, {a['year']}", a["result"]) for a in claim["article8"]] +
                           [("Article 8 exemption", led.get("article8Exemption"))]))
    parts += [
        _rows([("Renewable content", f"{c['renewableContent']} %"),
               ("Extinguishing agent", led.get("extinguishingAgent")),
               ("Waste prevention", c["endOfLifeInformation"]["wastePrevention"]),
               ("Separate collection", c["endOfLifeInformation"]["separateCollection"]),
               ("Collection points", c["endOfLifeInformation"]["informationOnCollection"])]),
        "<h2>Material composition</h2>",
        _rows([("Chemistry", f"{m['batteryChemistry']['shortName']}: {m['batteryChemistry']['clearName']}")] +
              [(f"Hazardous substance: {h['hazardousSubstanceName']}",
                f"{h['hazardousSubstanceIdentifier']}, {h['hazardousSubstanceConcentration']} %, "
                f"{h['hazardousSubstanceClass']}") for h in m["hazardousSubstances"]]),
        "<h2>Performance and durability</h2>",
        _rows([("Rated capacity", f"{p['ratedCapacity']} Ah"), ("Rated energy", f"{p['ratedEnergy']} kWh"),
               ("Voltage (min / nominal / max)", f"{p['minimumVoltage']} / {p['nominalVoltage']} / "
                                                 f"{p['maximumVoltage']} V"),
               ("Rated maximum power", f"{p['ratedMaximumPower']} W"),
               ("Original power capability", "; ".join(f"{x['powerCapabilityAt']} W at {x['atSoC']} % SoC"
                                                       for x in p["originalPowerCapability"])),
               ("Expected lifetime", f"{p['expectedLifetime']} years, {p['expectedNumberOfCycles']} cycles"),
               ("Capacity threshold for exhaustion", f"{p['capacityThresholdForExhaustion']} %"),
               ("Round trip efficiency (initial)", f"{p['roundtripEfficiency']} %"),
               ("Lifetime reference test", p["lifetimeReferenceTest"])]),
        "<h2>Carbon footprint</h2>",
        _rows([("Carbon footprint", f"{cf['batteryCarbonFootprint']} kg CO2e per kWh"),
               ("Performance class", cf["carbonFootprintPerformanceClass"]),
               ("Study", cf["carbonFootprintStudy"]), ("Study hash", led.get("carbonFootprintStudyHash"))] +
              [(f"Stage: {s['lifecycleStage']}", f"{s['carbonFootprint']} kg CO2e per kWh")
               for s in cf["carbonFootprintPerLifecycleStage"]]),
        "<h2>Labels, conformity and due diligence</h2>",
        _rows([("EU declaration of conformity", lab["declarationOfConformity"]),
               ("Supply chain due diligence report", dd["supplyChainDueDiligenceReport"]),
               ("Third-party assurance", dd.get("thirdPartyAussurances"))] +
              [(f"Label: {x['labelingSubject']}", x["labelingSymbol"]) for x in lab["labels"]]),
        f"<p class=\"muted\">Ledger: battery <code>{escape(str(led.get('batteryId', '')))}</code>, model data "
        f"<code>{escape(str(led.get('modelDataHash', '')))}</code>, manufacturer account "
        f"<code>{escape(str(led.get('manufacturerAccount', '')))}</code>.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def write_label(identifier_text: str, base: str, out: Path) -> tuple[Path, Path, str]:
    """QR code of :func:`passport_url` as ``out/<file stem>.png`` and ``.svg``; returns both paths and the URL."""
    url = passport_url(base, identifier_text)
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"--base {base!r} must be an http(s) URL")
    out.mkdir(parents=True, exist_ok=True)
    qr = segno.make_qr(url, error="m")
    stem = to_urn(identifier_text).replace(":", "-")
    png, svg = out / f"{stem}.png", out / f"{stem}.svg"
    qr.save(str(png), scale=8, border=4)
    qr.save(str(svg), scale=4, border=4, title=f"Battery passport {identifier_text}")
    return png, svg, url

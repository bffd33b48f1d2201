// The verification page: load the trust file (pinned anchors, published by the ministries) and a proof bundle
// (dropped, chosen, or fetched from the portal by battery identifier); the verification runs here, in the browser.
import { verifyBundle, verifyCredential, loadTrust, canonicalJson, NEEDED } from "./verifier.js";

export { verifyBundle, verifyCredential, loadTrust, canonicalJson, NEEDED };

let lastBundle = null; // the bytes of the last bundle loaded: the status a credential is checked against

const $ = (id) => document.getElementById(id);
const TRUST_KEY = "battery-ledger-trust";
const pct = (bps) => (bps / 100).toFixed(2) + " %";
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

function setTrust(text, source) {
  try {
    loadTrust(text);
  } catch (e) {
    $("trust-status").textContent = `trust file rejected: ${e.message}`;
    return;
  }
  window.localStorage.setItem(TRUST_KEY, text);
  $("trust-status").textContent = `trust anchors loaded (${source})`;
}

function show(verdict, ms) {
  $("verdict-json").textContent = JSON.stringify(verdict, null, 1);
  const box = $("verdict");
  box.className = verdict.ok ? "ok" : "failed";
  const rows = [];
  const f = verdict.facts;
  const b = verdict.block;
  let html = `<h2>${verdict.ok ? "VERIFIED" : "FAILED"}</h2>`;
  if (!verdict.ok) html += `<p class="failure">${esc(verdict.failure)}</p>`;
  if (f) {
    if (f.battery) {
      const where = f.battery.record ? "own record" : `anchored in batch #${f.battery.batch}`;
      rows.push(["Battery", `${f.battery.identifier} (${f.battery.status}${f.battery.closed ? ", closed" : ""}, ${where})`]);
    }
    rows.push(["Model", `${f.model.id} (${f.model.category}, ${f.model.ratedEnergyWh} Wh, ${f.model.metals.join("/")})`]);
    rows.push(["Claim", `#${f.claim.id} ${f.claim.status}${f.claim.tainted ? ", TAINTED by lot #" + f.claim.revokedLot : ""}, custody ${f.claim.custodyModel}`]);
    rows.push(["Lots", f.lots.map((l) => `#${l.lotId} ${l.material} ${l.feedstock} ${l.status}`).join(", ")]);
    for (const [m, s] of Object.entries(f.shares)) {
      rows.push([`Share ${m}`, `${pct(s.shareBps)} (pre-consumer ${pct(s.preConsumerBps)}, post-consumer ${pct(s.postConsumerBps)})`]);
    }
    for (const [year, e] of Object.entries(f.eu)) {
      const per = Object.entries(e.metals).map(([m, v]) => `${m} ${pct(v.shareBps)} / ${pct(v.minimumBps)}`).join(", ");
      rows.push([`EU ${year}`, `${e.meets ? "meets" : "does not meet"} the minimums${e.inScope ? "" : " (not in scope)"}: ${per}`]);
    }
    rows.push(["Block", `${b.number} ${b.hash} at ${b.time} (${b.anchor}), chain ${f.chainId}`]);
  }
  html += `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>`;
  html += `<p class="timing">verified in this browser in <span id="verify-ms">${ms.toFixed(1)}</span> ms</p>`;
  box.innerHTML = html;
}

function verifyBytes(bytes) {
  const trust = window.localStorage.getItem(TRUST_KEY);
  if (!trust) {
    show({ ok: false, failure: "load the trust file first (the anchors the ministries publish)", block: null, facts: null }, 0);
    return;
  }
  lastBundle = bytes;
  const start = performance.now();
  const verdict = verifyBundle(bytes, trust);
  show(verdict, performance.now() - start);
}

function showCredential(verdict) {
  $("verdict-json").textContent = JSON.stringify(verdict, null, 1);
  const box = $("verdict");
  box.className = verdict.ok ? "ok" : "failed";
  const rows = [];
  if (verdict.kind) rows.push(["Credential", `${verdict.kind} #${verdict.recordId ?? "?"}`]);
  if (verdict.issuer) rows.push(["Issuer", `${verdict.issuer} (${verdict.kind === "lot" ? "MoE" : "MOTIE"}, pinned)`]);
  rows.push(["Status", verdict.status]);
  for (const [k, v] of Object.entries(verdict.subject || {})) {
    if (typeof v !== "object") rows.push([k, String(v)]);
  }
  box.innerHTML = `<h2>${verdict.ok ? "VERIFIED" : "FAILED"}</h2>` +
    (verdict.ok ? "" : `<p class="failure">${esc(verdict.failure)}</p>`) +
    `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>`;
}

function verifyCredentialText(text) {
  const trust = window.localStorage.getItem(TRUST_KEY);
  if (!trust) {
    showCredential({ ok: false, failure: "load the trust file first (the anchors the ministries publish)", kind: null,
      issuer: null, recordId: null, status: "not checked", subject: {} });
    return;
  }
  showCredential(verifyCredential(text, trust, lastBundle));
}

async function readFile(file) {
  return new Uint8Array(await file.arrayBuffer());
}

async function fetchBundle(identifier) {
  if (window.location.protocol === "file:") {
    show({ ok: false, failure: "opened as a file: drop a bundle (fetching by identifier needs the portal)", block: null, facts: null }, 0);
    return;
  }
  const response = await fetch(`/v1/public/batteries/${encodeURIComponent(identifier)}/proof`);
  if (!response.ok) {
    show({ ok: false, failure: `the portal has no bundle for ${identifier} (HTTP ${response.status})`, block: null, facts: null }, 0);
    return;
  }
  verifyBytes(new Uint8Array(await response.arrayBuffer()));
}

function init() {
  const stored = window.localStorage.getItem(TRUST_KEY);
  if (stored) $("trust-status").textContent = "trust anchors loaded (remembered)";
  $("trust-file").addEventListener("change", async (e) => {
    if (e.target.files[0]) setTrust(new TextDecoder().decode(await readFile(e.target.files[0])), e.target.files[0].name);
  });
  $("bundle-file").addEventListener("change", async (e) => {
    if (e.target.files[0]) verifyBytes(await readFile(e.target.files[0]));
  });
  $("credential-file").addEventListener("change", async (e) => {
    if (e.target.files[0]) verifyCredentialText(new TextDecoder().decode(await readFile(e.target.files[0])));
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files[0]) verifyBytes(await readFile(e.dataTransfer.files[0]));
  });
  $("lookup").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("identifier").value.trim();
    if (id) fetchBundle(id);
  });
  const params = new URLSearchParams(window.location.search);
  if (params.get("battery")) {
    $("identifier").value = params.get("battery");
    fetchBundle(params.get("battery"));
  }
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
}

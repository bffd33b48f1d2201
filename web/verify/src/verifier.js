// Offline verification of a Battery Ledger proof bundle in the browser: the same checks, in the same order, with
// the same failure messages and facts as the Python verifier (chain_client/verifier.py, chain_client/ledger_state.py,
// chain_client/headers.py). The test vectors (tests/test_verify_page.py) check that both give identical verdicts.
import { keccak_256 } from "@noble/hashes/sha3";
import { secp256k1 } from "@noble/curves/secp256k1";
import { sha256 } from "@noble/hashes/sha2";

export const BUNDLE_FORMAT = "battery-ledger-proof-bundle";
export const TRUST_FORMAT = "battery-ledger-trust";
export const VERSION = 1;
const PASSPORTS = "BatteryPassports";
const CLAIMS = "UsageAttestations";
const CERTIFICATES = "ProductionCertificates";
const TARGETS = "RecycledContentTargets";
export const CONTRACTS = [PASSPORTS, CLAIMS, CERTIFICATES, TARGETS];
const KINDS = ["battery", "claim"];
const MAX_CONFIRMATIONS = 64;
const MAX_ALLOCATIONS = 64;
const MAX_YEARS = 16;
const BPS = 10000n;
const MATERIALS = ["Li", "Ni", "Co", "Mn", "Cu", "Pb"];
const FEEDSTOCKS = ["pre-consumer", "post-consumer"];
const LOT_STATUSES = ["None", "Pending", "Certified", "Rejected", "Revoked"];
const CLAIM_STATUSES = ["None", "Open", "Attested", "Rejected"];
const BATTERY_STATUSES = ["None", "Original", "InService", "Removed", "Reused", "Repurposed", "Remanufactured",
  "Waste", "Recycled"];
const CATEGORIES = ["EV", "Industrial", "LMT", "Stationary", "SLI", "Portable"];
const CUSTODY_MODELS = ["IdentityPreserved", "Segregated", "ControlledBlending", "MassBalance", "BookAndClaim"];
const HEX = /^0x[0-9a-f]*$/;

class Failure extends Error {}
const fail = (message) => new Failure(message);

// ------------------------------------------------------------------------------------------------------- bytes

const keccak = (bytes) => keccak_256(bytes);
const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (hex) => {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
};
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) { out.set(p, i); i += p.length; }
  return out;
};
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const contains = (haystack, needle) => {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
};
const toBig = (bytes) => (bytes.length === 0 ? 0n : BigInt("0x" + toHex(bytes)));
const word = (value) => {
  if (value instanceof Uint8Array) {
    if (value.length === 32) return value;
    if (value.length === 20) return concat(new Uint8Array(12), value);
    throw new Error("a mapping key must be 20 or 32 bytes");
  }
  return fromHex(value.toString(16).padStart(64, "0"));
};
const fixed = (value, size) => fromHex(value.toString(16).padStart(size * 2, "0"));
const hex32 = (value) => "0x" + value.toString(16).padStart(64, "0");
const hex20 = (value) => "0x" + value.toString(16).padStart(40, "0");
const compareBytes = (a, b) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
};

// --------------------------------------------------------------------------------------------------------- RLP

function rlpEncode(item) {
  if (item instanceof Uint8Array) {
    if (item.length === 1 && item[0] < 0x80) return item;
    return concat(rlpLength(item.length, 0x80), item);
  }
  const body = concat(...item.map(rlpEncode));
  return concat(rlpLength(body.length, 0xc0), body);
}

function rlpLength(length, offset) {
  if (length < 56) return Uint8Array.of(offset + length);
  const bytes = fixed(BigInt(length), Math.ceil(length.toString(16).length / 2));
  return concat(Uint8Array.of(offset + 55 + bytes.length), bytes);
}

const encodeInt = (value) => (value === 0n ? new Uint8Array(0) : fromHex(value.toString(16).padStart(
  Math.ceil(value.toString(16).length / 2) * 2, "0")));

// Strict decoding: the input must be exactly one canonical item (as pyrlp's strict decode).
function rlpDecode(bytes) {
  const [item, end] = rlpItem(bytes, 0);
  if (end !== bytes.length) throw new Error("trailing bytes");
  return item;
}

function rlpItem(bytes, pos) {
  if (pos >= bytes.length) throw new Error("truncated");
  const b = bytes[pos];
  if (b < 0x80) return [bytes.subarray(pos, pos + 1), pos + 1];
  const long = (lenOfLen, start) => {
    if (start + lenOfLen > bytes.length) throw new Error("truncated");
    if (bytes[start] === 0) throw new Error("non-canonical length");
    const length = Number(toBig(bytes.subarray(start, start + lenOfLen)));
    if (length < 56) throw new Error("non-canonical length");
    return length;
  };
  if (b < 0xb8) {
    const length = b - 0x80;
    const end = pos + 1 + length;
    if (end > bytes.length) throw new Error("truncated");
    if (length === 1 && bytes[pos + 1] < 0x80) throw new Error("non-canonical single byte");
    return [bytes.subarray(pos + 1, end), end];
  }
  if (b < 0xc0) {
    const lenOfLen = b - 0xb7;
    const length = long(lenOfLen, pos + 1);
    const start = pos + 1 + lenOfLen;
    if (start + length > bytes.length) throw new Error("truncated");
    return [bytes.subarray(start, start + length), start + length];
  }
  let start;
  let length;
  if (b < 0xf8) { length = b - 0xc0; start = pos + 1; } else {
    const lenOfLen = b - 0xf7;
    length = long(lenOfLen, pos + 1);
    start = pos + 1 + lenOfLen;
  }
  const end = start + length;
  if (end > bytes.length) throw new Error("truncated");
  const items = [];
  let p = start;
  while (p < end) {
    const [item, next] = rlpItem(bytes, p);
    if (next > end) throw new Error("truncated");
    items.push(item);
    p = next;
  }
  return [items, end];
}

// ------------------------------------------------------------------------------------------------- JSON form

export function canonicalJson(obj) {
  const sort = (v) => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") {
      const out = {};
      for (const k of Object.keys(v).sort()) out[k] = sort(v[k]);
      return out;
    }
    return v;
  };
  return JSON.stringify(sort(obj), null, 1) + "\n";
}

const onlySafeNumbers = (v) => {
  if (v === null || typeof v === "boolean" || typeof v === "string") return true;
  if (typeof v === "number") return Number.isSafeInteger(v);
  if (Array.isArray(v)) return v.every(onlySafeNumbers);
  if (typeof v === "object") return Object.values(v).every(onlySafeNumbers);
  return false;
};

function parseBundle(bytes) {
  if (bytes.some((b) => b > 0x7f)) throw fail("the bundle contains non-ASCII bytes");
  const text = new TextDecoder("ascii").decode(bytes);
  let obj;
  try { obj = JSON.parse(text); } catch { throw fail("the bundle is not valid JSON (truncated or damaged)"); }
  if (!onlySafeNumbers(obj) || canonicalJson(obj) !== text) {
    throw fail("the bundle is not in canonical form (changed or re-serialised after it was made)");
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw fail("the bundle is not a JSON object");
  return obj;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function keys(obj, where, required) {
  if (!isObject(obj)) throw fail(`${where} is not an object`);
  const have = Object.keys(obj);
  const missing = required.filter((k) => !have.includes(k)).sort();
  const extra = have.filter((k) => !required.includes(k)).sort();
  if (missing.length || extra.length) {
    const detail = [missing.length ? `missing ${missing.join(", ")}` : "",
      extra.length ? `unexpected ${extra.join(", ")}` : ""].filter((p) => p).join("; ");
    throw fail(`${where} does not have the fields of format version ${VERSION} (${detail})`);
  }
  return obj;
}

function int(value, where) {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw fail(`${where} is not a non-negative integer`);
  }
  return value;
}

function hexBytes(value, where, size) {
  if (typeof value !== "string" || !HEX.test(value) || value.length % 2) throw fail(`${where} is not lower-case 0x-hex`);
  const raw = fromHex(value.slice(2));
  if (size !== undefined && raw.length !== size) throw fail(`${where} is not ${size} bytes`);
  return raw;
}

function hexList(value, where, size) {
  if (!Array.isArray(value)) throw fail(`${where} is not a list`);
  return value.map((v, i) => hexBytes(v, `${where}[${i}]`, size));
}

// ------------------------------------------------------------------------------------------------------ trust

// The variables and fields the verifier reads (chain_client/storage_slots.py NEEDED; a test checks they agree).
export const NEEDED = {"BatteryPassports": {"_batteries": ["operator", "status", "closed", "sequence", "updatedAt", "model"], "_models": ["manufacturer", "category", "metals", "externalStorageOnly", "ratedEnergyWh", "dataHash"], "_batches": ["manufacturer", "count", "anchoredAt", "modelId", "root"], "_modelIds": ["value"]}, "UsageAttestations": {"_claims": ["claimant", "status", "custodyModel", "openedAt", "decidedAt", "periodStart", "periodEnd", "allocationCount", "batteryModel", "plant", "batteriesRoot", "evidenceHash"], "_allocations": ["lotId", "grams", "material", "feedstock"], "_content": ["contentGrams"]}, "ProductionCertificates": {"_lots": ["recycler", "material", "feedstock", "status", "decidedAt"]}, "RecycledContentTargets": {"_milestones": ["effectiveFrom", "minimumBps"], "_years": ["value"], "_scopeFrom": ["value"], "_custodyCounts": ["value"], "_industrialThresholdWh": ["value"]}};
const smallInt = (v, low = 0, high = 2 ** 32) => typeof v === "number" && Number.isInteger(v) && v >= low && v <= high;

// Every variable of the layout has the shape the state reader uses (so a bad trust file fails, not crashes).
function checkLayout(layout) {
  for (const [contract, variables] of Object.entries(layout)) {
    if (!isObject(variables)) throw fail(`the trust file's layout of ${contract} is malformed`);
    for (const [label, v] of Object.entries(variables)) {
      let ok = isObject(v) && smallInt(v.slot, 0, 2 ** 64) && smallInt(v.depth, 0, 4);
      ok = ok && ["elementSlots", "elementBytes"].every((k) => !(k in v) || smallInt(v[k], 1, 32));
      const fields = isObject(v) ? v.fields : null;
      ok = ok && isObject(fields) && Object.keys(fields).length > 0;
      if (ok) {
        for (const spec of Object.values(fields)) {
          ok = ok && Array.isArray(spec) && [3, 4].includes(spec.length) && spec.every((x) => smallInt(x, 0, 64));
          ok = ok && spec[2] >= 1 && spec[1] + spec[2] <= 32 && (spec.length === 3 || spec[3] >= 1);
        }
      }
      if (!ok) throw fail(`the trust file's layout of ${contract}.${label} is malformed`);
    }
  }
  for (const [contract, needed] of Object.entries(NEEDED)) {
    for (const [label, names] of Object.entries(needed)) {
      const v = isObject(layout[contract]) ? layout[contract][label] : undefined;
      if (v === undefined) throw fail(`the trust file's layout has no ${contract}.${label}`);
      for (const name of names) {
        if (!(name in v.fields)) throw fail(`the trust file's layout has no ${contract}.${label}.${name}`);
      }
      if ((label === "_years" && !("elementBytes" in v)) || (label === "_content" && v.fields.contentGrams.length !== 4)) {
        throw fail(`the trust file's layout of ${contract}.${label} is malformed`);
      }
    }
  }
}

export function loadTrust(text) {
  let obj;
  try { obj = JSON.parse(text); } catch { throw fail("the trust file is not valid JSON"); }
  if (!isObject(obj) || obj.format !== TRUST_FORMAT || obj.version !== VERSION) {
    throw fail(`the trust file is not a ${TRUST_FORMAT} version ${VERSION} file`);
  }
  const anchor = obj.anchor;
  if (!isObject(anchor) || !["block", "clique"].includes(anchor.type)) {
    throw fail("the trust file's anchor is neither a pinned block nor a Clique signer set");
  }
  if (anchor.type === "block") hexBytes(anchor.hash, "the trust file's pinned block hash", 32);
  else {
    if (!Array.isArray(anchor.signers) || !anchor.signers.length) throw fail("the trust file's Clique signer set is empty");
    for (const s of anchor.signers) hexBytes(s, "a pinned signer address", 20);
    int(anchor.confirmations, "the trust file's confirmations");
  }
  if (!isObject(obj.contracts)) throw fail("the trust file pins no contracts");
  for (const name of CONTRACTS) {
    const entry = obj.contracts[name];
    if (!isObject(entry)) throw fail(`the trust file does not pin ${name}`);
    hexBytes(entry.address, `the trust file's ${name} address`, 20);
    hexBytes(entry.codeHash, `the trust file's ${name} code hash`, 32);
  }
  if (!isObject(obj.layout)) throw fail("the trust file has no storage layout");
  checkLayout(obj.layout);
  return {
    chainId: int(obj.chainId, "the trust file's chainId"), anchor, minBlock: int(obj.minBlock ?? 0, "minBlock"),
    contracts: obj.contracts, layout: obj.layout, authorities: isObject(obj.authorities) ? obj.authorities : {},
  };
}

// ----------------------------------------------------------------------------------------------------- headers

function decodeHeader(raw, what) {
  let fields;
  try { fields = rlpDecode(raw); } catch { throw fail(`${what}: the block header is not valid RLP`); }
  if (!Array.isArray(fields) || fields.length < 15 || fields.length > 21 || !fields.every((f) => f instanceof Uint8Array)) {
    throw fail(`${what}: the block header does not have the fields of an Ethereum header`);
  }
  if (fields[0].length !== 32 || fields[3].length !== 32 || fields[8].length > 8 || fields[11].length > 8) {
    throw fail(`${what}: the block header's fields have the wrong sizes`);
  }
  if (!equal(rlpEncode(fields), raw)) throw fail(`${what}: the block header is not canonically encoded`);
  for (const i of [7, 8, 9, 10, 11]) {
    if (fields[i].length && fields[i][0] === 0) throw fail(`${what}: the block header is not canonically encoded`);
  }
  return {
    raw, fields, hash: keccak(raw), parentHash: fields[0], stateRoot: fields[3], number: Number(toBig(fields[8])),
    timestamp: Number(toBig(fields[11])), extraData: fields[12],
  };
}

function cliqueSigner(header) {
  const extra = header.extraData;
  if (extra.length < 32 + 65) throw fail(`block ${header.number}'s extra-data is too short to hold a Clique seal`);
  const fields = header.fields.slice();
  fields[12] = extra.subarray(0, extra.length - 65);
  const digest = keccak(rlpEncode(fields));
  const seal = extra.subarray(extra.length - 65);
  if (seal[64] > 1) throw fail(`block ${header.number}'s seal has an invalid recovery id`);
  let publicKey;
  try {
    const sig = secp256k1.Signature.fromCompact(seal.subarray(0, 64)).addRecoveryBit(seal[64]);
    publicKey = sig.recoverPublicKey(digest).toRawBytes(false);
  } catch { throw fail(`block ${header.number}'s seal does not recover a key`); }
  return "0x" + toHex(keccak(publicKey.subarray(1)).subarray(12));
}

const isoTime = (seconds) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

function checkAnchor(header, descendants, trust) {
  const anchor = trust.anchor;
  const block = { number: header.number, hash: "0x" + toHex(header.hash), timestamp: header.timestamp,
    time: isoTime(header.timestamp) };
  if (anchor.type === "block") {
    if (descendants.length) throw fail("the bundle carries confirmation headers, but the trust file pins a block hash");
    if ("0x" + toHex(header.hash) !== anchor.hash) {
      throw fail(`the block header (block ${header.number}, hash 0x${toHex(header.hash)}) is not the block the trust file pins (${anchor.hash})`);
    }
    block.anchor = "pinned block hash";
  } else {
    const signers = new Set(anchor.signers);
    const signer = cliqueSigner(header);
    if (!signers.has(signer)) throw fail(`block ${header.number} was sealed by ${signer}, not by a signer the trust file pins`);
    const needed = anchor.confirmations;
    if (descendants.length < needed) {
      throw fail(`the bundle carries ${descendants.length} confirmation headers, the trust file asks for ${needed}`);
    }
    if (descendants.length > MAX_CONFIRMATIONS) throw fail(`the bundle carries more than ${MAX_CONFIRMATIONS} confirmation headers`);
    let previous = header;
    descendants.forEach((raw, i) => {
      const child = decodeHeader(raw, `confirmation header ${i + 1}`);
      if (!equal(child.parentHash, previous.hash) || child.number !== previous.number + 1) {
        throw fail(`confirmation header ${i + 1} does not follow block ${previous.number}`);
      }
      const childSigner = cliqueSigner(child);
      if (!signers.has(childSigner)) throw fail(`block ${child.number} was sealed by ${childSigner}, not by a signer the trust file pins`);
      previous = child;
    });
    block.anchor = `Clique seal of ${signer}, ${descendants.length} confirmations`;
    block.signer = signer;
  }
  if (header.number < trust.minBlock) {
    throw fail(`the bundle proves block ${header.number}, older than block ${trust.minBlock} the trust file requires (a later revocation would not show): ask for a fresh bundle`);
  }
  return block;
}

// ------------------------------------------------------------------------------------------------------ proofs

function ordered(root, nodes, what) {
  if (!nodes.length) throw fail(`the proof of ${what} is empty`);
  if (!equal(keccak(nodes[0]), root)) throw fail(`the proof of ${what} does not start at the root it is checked against`);
  for (let i = 1; i < nodes.length; i++) {
    if (!contains(nodes[i - 1], keccak(nodes[i]))) {
      throw fail(`the proof of ${what} is not a path (node ${i} is not referenced by node ${i - 1})`);
    }
  }
}

const nibbles = (bytes) => Array.from(bytes).flatMap((b) => [b >> 4, b & 15]);

// The value under keccak(key) in the trie of root (empty when the proof shows it absent); throws when the proof
// does not hold. The walk of a Merkle-Patricia proof (as py-trie's HexaryTrie.get_from_proof).
function trieGet(root, key, nodes) {
  const db = new Map(nodes.map((n) => [toHex(keccak(n)), n]));
  const resolve = (ref) => {
    if (Array.isArray(ref)) return ref; // embedded node (< 32 bytes)
    if (ref.length === 0) return null;
    if (ref.length !== 32) throw new Error("bad reference");
    const raw = db.get(toHex(ref));
    if (!raw) throw new Error("missing node");
    return rlpDecode(raw);
  };
  let path = nibbles(keccak(key));
  let node = resolve(root);
  for (;;) {
    if (node === null) return new Uint8Array(0);
    if (!Array.isArray(node)) throw new Error("bad node");
    if (node.length === 17) {
      if (path.length === 0) return node[16];
      const next = node[path[0]];
      path = path.slice(1);
      node = next instanceof Uint8Array && next.length === 0 ? null : resolve(next);
    } else if (node.length === 2) {
      const encoded = nibbles(node[0]);
      const flag = encoded[0];
      if (flag > 3) throw new Error("bad path");
      const part = encoded.slice(flag & 1 ? 1 : 2);
      const matches = part.length <= path.length && part.every((n, i) => n === path[i]);
      if (flag >= 2) return matches && part.length === path.length ? node[1] : new Uint8Array(0);
      if (!matches) return new Uint8Array(0);
      path = path.slice(part.length);
      node = resolve(node[1]);
    } else throw new Error("bad node");
  }
}

function proveValue(root, key, nodes, what) {
  ordered(root, nodes, what);
  try {
    const value = trieGet(root, key, nodes);
    if (!(value instanceof Uint8Array)) throw new Error("bad value");
    return value;
  } catch (e) {
    if (e instanceof Failure) throw e;
    throw fail(`the proof of ${what} does not hold`);
  }
}

class ProofReader {
  constructor(accounts) { this.accounts = accounts; }

  read(contract, slot, what) {
    const acct = this.accounts[contract];
    const cacheKey = slot.toString(16);
    if (acct.cache.has(cacheKey)) return acct.cache.get(cacheKey);
    const slotHex = hex32(slot);
    if (acct.next >= acct.entries.length) throw fail(`the bundle has no storage proof for ${what} (${contract} slot ${slotHex})`);
    const index = acct.next;
    const [entrySlot, value, nodes] = acct.entries[index];
    acct.next += 1;
    if (entrySlot !== slot) {
      throw fail(`${contract} storage proof ${index} is for slot ${hex32(entrySlot)}, but the verifier reads ${what} from slot ${slotHex}`);
    }
    const leaf = proveValue(acct.storageRoot, word(slot), nodes, `${what} (${contract} slot ${slotHex})`);
    const expected = value.some((b) => b) ? rlpEncode(encodeInt(toBig(value))) : new Uint8Array(0);
    // A zero value is canonically absent from the trie; some nodes (anvil) keep a written zero as RLP 0 (0x80).
    const zeroKept = expected.length === 0 && leaf.length === 1 && leaf[0] === 0x80;
    if (!equal(leaf, expected) && !zeroKept) throw fail(`the value of ${what} (${contract} slot ${slotHex}) is not the one its proof holds`);
    acct.cache.set(cacheKey, value);
    return value;
  }

  checkAllUsed() {
    for (const acct of Object.values(this.accounts)) {
      if (acct.next !== acct.entries.length) throw fail(`${acct.name} storage proof ${acct.next} is for a slot the verdict does not read`);
    }
  }
}

function accountsOf(bundle, stateRoot, trust) {
  const entries = bundle.accounts;
  if (!Array.isArray(entries) || entries.length !== CONTRACTS.length) {
    throw fail(`the bundle must prove the accounts ${CONTRACTS.join(", ")}`);
  }
  const out = {};
  CONTRACTS.forEach((name, i) => {
    const e = keys(entries[i], `accounts[${i}]`, ["contract", "address", "accountProof", "storage"]);
    if (e.contract !== name) throw fail(`accounts[${i}] is ${pyRepr(e.contract)}, expected ${name}`);
    const address = hexBytes(e.address, `${name} address`, 20);
    const pinned = trust.contracts[name];
    if ("0x" + toHex(address) !== pinned.address.toLowerCase()) {
      throw fail(`${name} is proven at 0x${toHex(address)}, not at ${pinned.address} the trust file pins`);
    }
    const leaf = proveValue(stateRoot, address, hexList(e.accountProof, `${name} accountProof`), `the ${name} account`);
    if (!leaf.length) throw fail(`there is no ${name} account at 0x${toHex(address)} in block's state`);
    let account;
    try { account = rlpDecode(leaf); } catch { account = null; }
    if (!Array.isArray(account) || account.length !== 4 || !account.every((f) => f instanceof Uint8Array)) {
      throw fail(`the ${name} account is not an Ethereum account record`);
    }
    if ("0x" + toHex(account[3]) !== pinned.codeHash.toLowerCase()) {
      throw fail(`the code at ${name}'s address is not the code the trust file pins`);
    }
    if (!Array.isArray(e.storage)) throw fail(`${name} storage is not a list`);
    const rows = e.storage.map((s, j) => {
      s = keys(s, `${name} storage[${j}]`, ["slot", "value", "proof"]);
      return [toBig(hexBytes(s.slot, `${name} storage[${j}].slot`, 32)), hexBytes(s.value, `${name} storage[${j}].value`, 32),
        hexList(s.proof, `${name} storage[${j}].proof`)];
    });
    out[name] = { name, storageRoot: account[2], entries: rows, next: 0, cache: new Map() };
  });
  return out;
}

// Python's repr() of a JSON value, for the one message that quotes one.
function pyRepr(v) {
  if (typeof v === "string") return v.includes("'") && !v.includes('"') ? `"${v}"` : `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (typeof v === "object") return `{${Object.entries(v).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
  return String(v);
}

// ---------------------------------------------------------------------------------------------- ledger state

const mappingSlot = (base, key) => toBig(keccak(concat(word(key), word(base))));
const arrayDataSlot = (slot) => toBig(keccak(word(slot)));
const extract = (value, offset, size) => toBig(value.subarray(32 - offset - size, 32 - offset));
const batteryKey = (identifier) => keccak(new TextEncoder().encode(identifier));

class StateView {
  constructor(layout, reader) { this.layout = layout; this.reader = reader; }

  variable(contract, label) {
    const v = this.layout[contract] && this.layout[contract][label];
    if (!v) throw fail(`the trust file's layout has no ${contract}.${label}`);
    return v;
  }

  base(v, keys_) {
    if (keys_.length !== v.depth) throw fail("the trust file's layout does not match the variables the verifier reads");
    let base = BigInt(v.slot);
    for (const k of keys_) base = mappingSlot(base, k);
    return base;
  }

  struct(contract, label, keys_, what, base) {
    const v = this.variable(contract, label);
    const start = base === undefined ? this.base(v, keys_) : base;
    const cache = new Map();
    const get = (slot, name) => {
      const k = slot.toString(16);
      if (!cache.has(k)) cache.set(k, this.reader.read(contract, slot, `${what}.${name}`));
      return cache.get(k);
    };
    const out = {};
    for (const name of Object.keys(v.fields).sort()) {
      const spec = v.fields[name];
      const rel = BigInt(spec[0]);
      const offset = Number(spec[1]);
      const size = Number(spec[2]);
      if (spec.length === 4) {
        const values = [];
        for (let i = 0; i < Number(spec[3]); i++) {
          const slot = start + rel + BigInt(Math.floor((i * size) / 32));
          values.push(extract(get(slot, name), (i * size) % 32, size));
        }
        out[name] = values;
        continue;
      }
      out[name] = extract(get(start + rel, name), offset, size);
    }
    return out;
  }

  value(contract, label, keys_, what) { return this.struct(contract, label, keys_, what).value; }

  arrayLength(contract, label, keys_, what) {
    const slot = this.base(this.variable(contract, label), keys_);
    const length = toBig(this.reader.read(contract, slot, `${what}.length`));
    return [length, arrayDataSlot(slot)];
  }

  arrayValues(contract, label, what, limit) {
    const v = this.variable(contract, label);
    const [length, data] = this.arrayLength(contract, label, [], what);
    if (length > BigInt(limit)) throw fail(`${what} has ${length} entries, more than the verifier accepts (${limit})`);
    const size = Number(v.elementBytes);
    const out = [];
    for (let i = 0; i < Number(length); i++) {
      const raw = this.reader.read(contract, data + BigInt(Math.floor((i * size) / 32)), `${what}[${i}]`);
      out.push(extract(raw, (i * size) % 32, size));
    }
    return out;
  }
}

function readState(view, claimId, identifier, batchId) {
  let battery = null;
  let batch = null;
  if (identifier !== null) {
    battery = view.struct(PASSPORTS, "_batteries", [batteryKey(identifier)], `battery ${identifier}`);
    if (battery.status === 0n && batchId === null) {
      throw fail(`battery ${identifier} has no passport record on chain (and no batch is named)`);
    }
    if (battery.status !== 0n && batchId !== null) {
      throw fail(`battery ${identifier} has its own record: a bundle names no batch for it`);
    }
    if (battery.status !== 0n) { // the record stores its model's number; the model id is one slot away
      battery.modelId = view.value(PASSPORTS, "_modelIds", [battery.model], `battery ${identifier} model`);
    }
    if (batchId !== null) {
      batch = view.struct(PASSPORTS, "_batches", [BigInt(batchId)], `batch #${batchId}`);
      if (batch.manufacturer === 0n) throw fail(`batch #${batchId} does not exist on chain`);
    }
  }
  const id = BigInt(claimId);
  const claim = view.struct(CLAIMS, "_claims", [id], `claim #${claimId}`);
  if (claim.status === 0n) throw fail(`claim #${claimId} does not exist on chain`);
  const count = claim.allocationCount;
  if (count > BigInt(MAX_ALLOCATIONS)) {
    throw fail(`claim #${claimId} allocations has ${count} entries, more than the verifier accepts (${MAX_ALLOCATIONS})`);
  }
  const allocations = [];
  for (let i = 0n; i < count; i++) {
    allocations.push(view.struct(CLAIMS, "_allocations", [id, i], `claim #${claimId} allocations[${i}]`));
  }
  const content = view.struct(CLAIMS, "_content", [id], `claim #${claimId} content`).contentGrams;
  const lots = new Map();
  for (const a of allocations) {
    const k = a.lotId.toString();
    if (!lots.has(k)) lots.set(k, view.struct(CERTIFICATES, "_lots", [a.lotId], `lot #${a.lotId}`));
  }
  const model = view.struct(PASSPORTS, "_models", [word(claim.batteryModel)], `model ${hex32(claim.batteryModel)}`);
  const years = view.arrayValues(TARGETS, "_years", "EU milestone years", MAX_YEARS);
  const milestones = new Map(years.map((y) => [y, view.struct(TARGETS, "_milestones", [y], `EU milestone ${y}`)]));
  const scopeFrom = view.value(TARGETS, "_scopeFrom", [model.category], "scope of category");
  const threshold = view.value(TARGETS, "_industrialThresholdWh", [], "industrial threshold");
  const counts = view.value(TARGETS, "_custodyCounts", [claim.custodyModel], "custody model counts");
  return { claimId, claim, allocations, content, lots, model, years, milestones, scopeFrom, threshold,
    custodyCounts: counts !== 0n, identifier, battery, batchId, batch };
}

const nameOf = (names, index) => (index >= 0n && index < BigInt(names.length) ? names[Number(index)] : `unknown(${index})`);

function merkleRoot(value, proof) {
  let node = keccak(keccak(value));
  for (const sibling of proof) node = compareBytes(node, sibling) < 0 ? keccak(concat(node, sibling)) : keccak(concat(sibling, node));
  return node;
}

function computeFacts(state, batteriesProof, batchProof) {
  const c = state.claim;
  const claimStatus = nameOf(CLAIM_STATUSES, c.status);
  let taintedLot = 0n;
  for (const a of state.allocations) {
    if (state.lots.get(a.lotId.toString()).status === 4n && taintedLot === 0n) taintedLot = a.lotId;
  }
  const tainted = taintedLot !== 0n;
  const attested = claimStatus === "Attested";
  const model = state.model;
  const metals = model.metals;
  const shares = {};
  const shareBps = MATERIALS.map(() => 0n);
  // The recycled grams per metal are the claim's allocations, split by feedstock.
  const recycled = MATERIALS.map(() => [0n, 0n]);
  for (const a of state.allocations) {
    if (a.material >= BigInt(MATERIALS.length) || a.feedstock > 1n) {
      throw fail(`claim #${state.claimId} has an allocation of an unknown material or feedstock`);
    }
    recycled[Number(a.material)][Number(a.feedstock)] += a.grams;
  }
  state.content.forEach((grams, m) => {
    if (grams === 0n) return;
    const [pre, post] = recycled[m];
    const total = ((pre + post) * BPS) / grams;
    const preBps = (pre * BPS) / grams;
    shareBps[m] = total;
    shares[MATERIALS[m]] = { contentGrams: grams.toString(), preConsumerGrams: pre.toString(),
      postConsumerGrams: post.toString(), shareBps: Number(total), preConsumerBps: Number(preBps),
      postConsumerBps: Number(total - preBps) };
  });
  const eu = {};
  for (const year of state.years) {
    const milestone = state.milestones.get(year);
    const fromYear = state.scopeFrom;
    let inScope = fromYear !== 0n && year >= fromYear;
    if (inScope && ["Industrial", "Stationary"].includes(nameOf(CATEGORIES, model.category))) {
      inScope = model.ratedEnergyWh > state.threshold && model.externalStorageOnly === 0n;
    }
    let meets = attested && !tainted && inScope;
    const perMetal = {};
    MATERIALS.forEach((symbol, m) => {
      const share = state.custodyCounts ? shareBps[m] : 0n;
      const minimum = milestone.minimumBps[m];
      const contained = (metals & (1n << BigInt(m))) !== 0n;
      if (contained && share < minimum) meets = false;
      if (contained) perMetal[symbol] = { shareBps: Number(share), minimumBps: Number(minimum), meets: share >= minimum };
    });
    eu[String(year)] = { inScope, meets, effectiveFrom: Number(milestone.effectiveFrom), metals: perMetal };
  }
  const lots = [...state.lots.entries()].map(([id, lot]) => ({
    lotId: Number(id), material: nameOf(MATERIALS, lot.material), feedstock: nameOf(FEEDSTOCKS, lot.feedstock),
    status: nameOf(LOT_STATUSES, lot.status), recycler: hex20(lot.recycler), decidedAt: Number(lot.decidedAt) }));
  const facts = {
    claim: {
      id: state.claimId, status: claimStatus, claimant: hex20(c.claimant),
      custodyModel: nameOf(CUSTODY_MODELS, c.custodyModel), custodyCounts: state.custodyCounts,
      periodStart: Number(c.periodStart), periodEnd: Number(c.periodEnd), decidedAt: Number(c.decidedAt),
      plant: hex32(c.plant), evidenceHash: hex32(c.evidenceHash), batteriesRoot: hex32(c.batteriesRoot),
      tainted, revokedLot: Number(taintedLot),
    },
    model: {
      id: hex32(c.batteryModel), manufacturer: hex20(model.manufacturer), category: nameOf(CATEGORIES, model.category),
      ratedEnergyWh: Number(model.ratedEnergyWh), externalStorageOnly: model.externalStorageOnly !== 0n,
      metals: MATERIALS.filter((_, m) => (metals & (1n << BigInt(m))) !== 0n), dataHash: hex32(model.dataHash),
    },
    allocations: state.allocations.map((a) => ({ lotId: Number(a.lotId), grams: a.grams.toString(),
      material: nameOf(MATERIALS, a.material), feedstock: nameOf(FEEDSTOCKS, a.feedstock) })),
    lots, shares, eu,
  };
  if (state.battery !== null) {
    const key = batteryKey(state.identifier);
    let b = state.battery;
    const batch = state.batch;
    let inBatch = null;
    if (batch !== null) {
      inBatch = batchProof !== null && equal(merkleRoot(key, batchProof), word(batch.root));
      b = { status: 1n, closed: 0n, operator: batch.manufacturer, sequence: 0n, updatedAt: batch.anchoredAt,
        modelId: batch.modelId };
    }
    const root = word(c.batteriesRoot);
    const sameModel = b.modelId === c.batteryModel;
    const inRoot = root.some((x) => x) && batteriesProof !== null && equal(merkleRoot(key, batteriesProof), root);
    facts.battery = {
      identifier: state.identifier, id: "0x" + toHex(key), status: nameOf(BATTERY_STATUSES, b.status),
      closed: b.closed !== 0n, operator: hex20(b.operator), sequence: Number(b.sequence), updatedAt: Number(b.updatedAt),
      modelId: hex32(b.modelId), record: batch === null, batch: state.batchId, inBatch, sameModel, inClaimRoot: inRoot,
      covered: attested && !tainted && sameModel && inRoot && inBatch !== false,
    };
  }
  return facts;
}

function judgement(facts) {
  const claim = facts.claim;
  if (claim.status !== "Attested") return `claim #${claim.id} is not attested (status ${claim.status})`;
  if (claim.tainted) return `claim #${claim.id} is tainted: lot #${claim.revokedLot} was revoked`;
  const battery = facts.battery;
  if (battery) {
    if (battery.inBatch === false) return `battery ${battery.identifier} is not in batch #${battery.batch}`;
    if (!battery.sameModel) return `battery ${battery.identifier} is of model ${battery.modelId}, not the claim's model ${facts.model.id}`;
    if (!battery.inClaimRoot) return `battery ${battery.identifier} is not in the batteries root of claim #${claim.id}`;
  }
  return null;
}

// ------------------------------------------------------------------------------------------------------ verdict

function run(bytes, trust) {
  const bundle = parseBundle(bytes);
  const top = keys(bundle, "the bundle", ["format", "version", "kind", "chainId", "subject", "header", "descendants", "accounts"]);
  if (top.format !== BUNDLE_FORMAT || top.version !== VERSION) throw fail(`the bundle is not a ${BUNDLE_FORMAT} version ${VERSION}`);
  const kind = top.kind;
  if (!KINDS.includes(kind)) throw fail(`the bundle's kind ${pyRepr(kind)} is not one of ${KINDS.join(", ")}`);
  const wanted = kind === "battery" ? ["claimId", "battery", "batteriesProof", "batch"] : ["claimId"];
  const subject = keys(top.subject, "the bundle's subject", wanted);
  const chainId = int(top.chainId, "chainId");
  if (chainId !== trust.chainId) throw fail(`the bundle is for chain ${chainId}, the trust file for chain ${trust.chainId}`);
  const header = decodeHeader(hexBytes(top.header, "header"), "the block header");
  const block = checkAnchor(header, hexList(top.descendants, "descendants"), trust);
  const claimId = int(subject.claimId, "subject.claimId");
  let identifier = null;
  let proof = null;
  let batchId = null;
  let batchProof = null;
  if (kind === "battery") {
    identifier = subject.battery;
    if (typeof identifier !== "string" || !identifier || identifier !== identifier.trim()) {
      throw fail("subject.battery is not a canonical identifier");
    }
    proof = hexList(subject.batteriesProof, "subject.batteriesProof", 32);
    if (subject.batch !== null) {
      const batch = keys(subject.batch, "subject.batch", ["batchId", "proof"]);
      batchId = int(batch.batchId, "subject.batch.batchId");
      batchProof = hexList(batch.proof, "subject.batch.proof", 32);
    }
  }
  const reader = new ProofReader(accountsOf(top, header.stateRoot, trust));
  const state = readState(new StateView(trust.layout, reader), claimId, identifier, batchId);
  reader.checkAllUsed();
  const facts = computeFacts(state, proof, batchProof);
  facts.chainId = chainId;
  const failure = judgement(facts);
  return { ok: failure === null, failure, block, facts };
}

/** Verifies the bytes of a bundle against a trust file's text; never throws for bad input. */
export function verifyBundle(bytes, trustText) {
  try {
    const trust = typeof trustText === "string" ? loadTrust(trustText) : trustText;
    return run(bytes instanceof Uint8Array ? bytes : new TextEncoder().encode(bytes), trust);
  } catch (e) {
    if (e instanceof Failure) return { ok: false, failure: e.message, block: null, facts: null };
    if (e instanceof RangeError) return { ok: false, failure: "the bundle is nested too deeply", block: null, facts: null };
    throw e;
  }
}

// ------------------------------------------------------------------------------------------------ credentials
// The same checks as chain_client/credential_check.py: a vc+jwt signed ES256K with the key in its header, that key's
// address the did:pkh issuer and a ministry key the trust file pins, the status contract pinned, and, given a proof
// bundle, the on-chain status it proves.

const VC_CONTEXT = "https://www.w3.org/ns/credentials/v2";
const STATUS_TYPE = "BatteryLedgerChainStatus";
const CREDENTIAL_KINDS = {
  RecycledMaterialCertificateCredential: ["lot", "moe", CERTIFICATES],
  RecycledContentAttestationCredential: ["claim", "motie", CLAIMS],
};
const AUTHORITY_NAMES = { moe: "MoE", motie: "MOTIE" };
const B64 = /^[A-Za-z0-9_-]*$/;

function b64(part, what) {
  if (!B64.test(part) || part.length % 4 === 1) throw fail(`the credential's ${what} is not base64url`);
  const text = atob(part.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (part.length % 4)) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function jsonOf(raw, what) {
  let obj;
  try { obj = JSON.parse(new TextDecoder().decode(raw)); } catch { throw fail(`the credential's ${what} is not JSON`); }
  if (!isObject(obj)) throw fail(`the credential's ${what} is not a JSON object`);
  return obj;
}

function jwsSigner(header, signingInput, signature) {
  if (header.alg !== "ES256K" || header.typ !== "vc+jwt") throw fail("the credential is not an ES256K vc+jwt");
  const jwk = header.jwk;
  if (!isObject(jwk) || jwk.kty !== "EC" || jwk.crv !== "secp256k1") throw fail("the credential's header carries no secp256k1 key");
  const x = b64(String(jwk.x ?? ""), "key");
  const y = b64(String(jwk.y ?? ""), "key");
  if (x.length !== 32 || y.length !== 32 || signature.length !== 64) throw fail("the credential's key or signature has the wrong size");
  const point = concat(Uint8Array.of(4), x, y);
  let ok = false;
  try { ok = secp256k1.verify(signature, sha256(signingInput), point, { lowS: false }); } catch { ok = false; }
  if (!ok) throw fail("the credential's signature does not verify with the key in its header");
  return "0x" + toHex(keccak(point.subarray(1)).subarray(12));
}

function checkStatus(verdict, statusBytes, trust, subject) {
  const proven = run0(statusBytes, trust);
  if (proven.facts === null) throw fail(`the status bundle does not verify: ${proven.failure}`);
  const facts = proven.facts;
  const block = proven.block ? proven.block.number : null;
  if (verdict.kind === "claim") {
    const claim = facts.claim;
    if (claim.id !== verdict.recordId) throw fail(`the status bundle proves claim #${claim.id}, not claim #${verdict.recordId}`);
    if (claim.tainted) {
      verdict.status = "tainted";
      throw fail(`claim #${claim.id} is tainted at block ${block}: lot #${claim.revokedLot} was revoked`);
    }
    if (claim.status !== "Attested") {
      verdict.status = claim.status.toLowerCase();
      throw fail(`claim #${claim.id} is not attested at block ${block} (status ${claim.status})`);
    }
    for (const row of Array.isArray(subject.recycledContent) ? subject.recycledContent : []) {
      const share = facts.shares[row.material];
      if (!share || share.shareBps !== row.shareBps || share.contentGrams !== row.contentGrams) {
        throw fail(`the credential's ${row.material ?? "None"} content differs from the chain's`);
      }
    }
  } else {
    const lot = facts.lots.find((l) => l.lotId === verdict.recordId);
    if (!lot) throw fail(`the status bundle does not prove lot #${verdict.recordId} (give a bundle of a claim that consumed it)`);
    if (lot.status === "Revoked") {
      verdict.status = "revoked";
      throw fail(`lot #${verdict.recordId} is revoked at block ${block}`);
    }
    if (lot.status !== "Certified") {
      verdict.status = lot.status.toLowerCase();
      throw fail(`lot #${verdict.recordId} is not certified at block ${block} (status ${lot.status})`);
    }
    if (lot.material !== subject.material || lot.feedstock !== subject.feedstock) {
      throw fail(`the credential's material of lot #${verdict.recordId} differs from the chain's`);
    }
  }
  verdict.status = `valid at block ${block}`;
}

function run0(bytes, trust) {
  try { return run(bytes, trust); } catch (e) {
    if (e instanceof Failure) return { ok: false, failure: e.message, block: null, facts: null };
    throw e;
  }
}

/** Verifies a vc+jwt credential against a trust file (and a status bundle's bytes, if given); never throws. */
export function verifyCredential(text, trustText, statusBytes) {
  const verdict = { ok: false, failure: null, kind: null, issuer: null, recordId: null,
    status: "not checked (give a proof bundle as status)", subject: {} };
  try {
    const trust = typeof trustText === "string" ? loadTrust(trustText) : trustText;
    const parts = text.trim().split(".");
    if (parts.length !== 3) throw fail("the credential is not a compact JWS (three base64url parts)");
    const header = jsonOf(b64(parts[0], "header"), "header");
    const payload = jsonOf(b64(parts[1], "payload"), "payload");
    const signer = jwsSigner(header, new TextEncoder().encode(`${parts[0]}.${parts[1]}`), b64(parts[2], "signature"));
    const context = payload["@context"];
    let types = payload.type;
    if (!Array.isArray(context) || !context.length || context[0] !== VC_CONTEXT) {
      throw fail("the credential is not a W3C Verifiable Credential 2.0 (@context)");
    }
    if (!Array.isArray(types) || !types.every((t) => typeof t === "string")) types = [];
    const kinds = types.filter((t) => Object.prototype.hasOwnProperty.call(CREDENTIAL_KINDS, t)).map((t) => CREDENTIAL_KINDS[t]);
    if (!types.includes("VerifiableCredential") || kinds.length !== 1) {
      throw fail("the credential is neither a lot certificate nor a claim attestation");
    }
    const [kind, authority, contract] = kinds[0];
    verdict.kind = kind;
    const issuer = `did:pkh:eip155:${trust.chainId}:`;
    if (typeof payload.issuer !== "string" || payload.issuer.toLowerCase() !== (issuer + signer).toLowerCase()) {
      throw fail(`the credential's issuer ${typeof payload.issuer === "string" ? payload.issuer : pyRepr(payload.issuer ?? null)} is not the key that signed it (${issuer}${signer}) on chain ${trust.chainId}`);
    }
    verdict.issuer = signer;
    const pinned = (trust.authorities[authority] || []).map((a) => a.toLowerCase());
    if (!pinned.includes(signer)) throw fail(`${signer} is not a ${AUTHORITY_NAMES[authority]} key the trust file pins`);
    const status = payload.credentialStatus;
    if (!isObject(status) || status.type !== STATUS_TYPE || status.record !== kind) {
      throw fail("the credential has no Battery Ledger chain status");
    }
    if (status.chainId !== trust.chainId || String(status.contract ?? "").toLowerCase() !== trust.contracts[contract].address.toLowerCase()) {
      throw fail(`the credential's status is not on the ${contract} contract the trust file pins`);
    }
    if (typeof status.recordId !== "number" || !Number.isInteger(status.recordId)) throw fail("the credential's status names no record");
    verdict.recordId = status.recordId;
    const subject = payload.credentialSubject;
    if (!isObject(subject)) throw fail("the credential has no subject");
    verdict.subject = subject;
    if (statusBytes) checkStatus(verdict, statusBytes, trust, subject);
    verdict.ok = true;
  } catch (e) {
    if (!(e instanceof Failure)) throw e;
    verdict.failure = e.message;
  }
  return verdict;
}

// Runs the bundled browser verifier (verifier.bundle.js, the same file the page loads) under Node on a folder of
// test vectors (NAME.bundle.json + NAME.trust.json; credentials NAME.cred.jwt + NAME.cred-trust.json + NAME.cred-status.json)
// and prints {name: verdict} as JSON.
// Usage: node web/verify/tools/run-vectors.cjs DIR
const fs = require("fs");
const path = require("path");
const code = fs.readFileSync(path.join(__dirname, "..", "verifier.bundle.js"), "utf8");
const verifier = new Function(`${code}; return BatteryLedgerVerifier;`)();
const dir = process.argv[2];
const out = {};
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".bundle.json")).sort()) {
  const name = file.slice(0, -".bundle.json".length);
  const bundle = new Uint8Array(fs.readFileSync(path.join(dir, file)));
  const trust = fs.readFileSync(path.join(dir, `${name}.trust.json`), "utf8");
  out[name] = verifier.verifyBundle(bundle, trust);
}
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".cred.jwt")).sort()) {
  const name = file.slice(0, -".cred.jwt".length);
  const text = fs.readFileSync(path.join(dir, file), "utf8");
  const trust = fs.readFileSync(path.join(dir, `${name}.cred-trust.json`), "utf8");
  const statusFile = path.join(dir, `${name}.cred-status.json`);
  const status = fs.existsSync(statusFile) ? new Uint8Array(fs.readFileSync(statusFile)) : undefined;
  out[`credential:${name}`] = verifier.verifyCredential(text, trust, status);
}
process.stdout.write(JSON.stringify(out));

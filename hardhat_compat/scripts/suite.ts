// Deploys and wires the Battery Ledger suite exactly as chain_client/suite.py does, with the rule data of
// chain_client/rules.json, and describes it in the deployment file format both sides read. Governance goes to the
// ministries' policy committee (a Safe 1.4.1 multisig proposing to PolicyTimelock); the initial wiring and rules go
// through the timelock while its delay is still zero, in one batch that ends by revoking the deployer's roles.
import { readFileSync } from "node:fs";

type Ethers = any; // the ethers object of a Hardhat network connection
type Signer = any;

export const SUITE = [
  "BatteryLedgerForwarder",
  "ParticipantRegistry",
  "ProductionCertificates",
  "RecycledContentTargets",
  "BatteryPassports",
  "UsageAttestations",
  "PerformanceEvaluations",
  "SafetyInspections",
  "TransportStorage",
  "PolicyTimelock",
  // issue 14: fair trade in used batteries, Annex XII recycling efficiency
  "UsedBatteryTrades",
  "RecyclingEfficiency",
] as const;
export const SAFE = "PolicyCommitteeSafe";
export const MINISTRIES = ["moe", "motie", "molit"] as const;
export const DEFAULT_DELAY = 2 * 86_400;

export const MATERIALS = ["LITHIUM", "NICKEL", "COBALT", "MANGANESE", "COPPER", "LEAD"] as const;

export const rules = JSON.parse(
  readFileSync(new URL("../../chain_client/rules.json", import.meta.url), "utf8"),
);

export function authorityRole(ethers: Ethers, name: "moe" | "motie" | "molit"): string {
  return ethers.id(`${name.toUpperCase()}_ROLE`);
}

const STATUS: Record<string, number> = { REUSED: 4, REPURPOSED: 5, REMANUFACTURED: 6 };
const paths = (names: string[]) => names.reduce((mask, n) => mask | (1 << STATUS[n]), 0);

export function gradingPolicy(): number[] {
  const g = rules.grading;
  const forcing = g.forcingFaults.reduce((mask: number, f: string) => mask | rules.faultFlags[f], 0);
  const life = g.secondLife;
  return [g.upperAboveSohBps, g.middleAboveSohBps, forcing, g.validitySeconds, paths(life.upper), paths(life.middle),
    paths(life.lower)];
}

export function inspectionPolicy(): [number, number] {
  return [rules.inspection.maxValiditySeconds, rules.inspection.retestWaitSeconds];
}

const CHEMISTRY_CLASSES = ["LITHIUM_BASED", "LEAD_ACID", "OTHER"] as const;

/** The trade policy of rules.json: [k, price deviation (bps), trade authority role]. */
export function tradePolicy(ethers: Ethers): [number, number, string] {
  const t = rules.usedBatteryTrades;
  return [t.minIndexTrades, t.priceDeviationBps, authorityRole(ethers, t.tradeAuthority)];
}

/** The Annex XII milestones of rules.json as [year, [effectiveFrom, efficiencyBps[3], recoveryBps[6]]]. */
export function recyclingMilestones(): [number, [number, number[], number[]]][] {
  return rules.annexXII.map((m: any) => [m.year, [Math.floor(Date.parse(m.effectiveFrom) / 1000),
    CHEMISTRY_CLASSES.map((c) => m.efficiencyBps[c] ?? 0), MATERIALS.map((x) => m.recoveryBps[x] ?? 0)]]);
}

function safeArtifact(name: string) {
  return JSON.parse(
    readFileSync(new URL(`../../chain_client/artifacts/safe/${name}.json`, import.meta.url), "utf8"),
  );
}

export async function deploySuite(
  ethers: Ethers,
  deployer: Signer,
  authorities: Record<"moe" | "motie" | "molit", string>,
  { threshold = 2, delay = DEFAULT_DELAY }: { threshold?: number; delay?: number } = {},
) {
  const members = MINISTRIES.map((m) => {
    if (!authorities[m]) throw new Error(`the committee needs every ministry: missing ${m}`);
    return ethers.getAddress(authorities[m]);
  });
  const startBlock = await ethers.provider.getBlockNumber();
  const deploy = async (name: string, ...args: unknown[]) => {
    const c = await ethers.deployContract(name, args, deployer);
    await c.waitForDeployment();
    return c;
  };
  const deployArtifact = async (artifact: any) => {
    const c = await new ethers.ContractFactory(artifact.abi, artifact.bytecode, deployer).deploy();
    await c.waitForDeployment();
    return c;
  };
  const forwarder = await deploy("BatteryLedgerForwarder");
  const fwd = await forwarder.getAddress();
  const safeArt = safeArtifact("Safe");
  const singleton = await deployArtifact(safeArt);
  const factory = await deployArtifact(safeArtifact("SafeProxyFactory"));
  const setup = singleton.interface.encodeFunctionData("setup", [members, threshold, ethers.ZeroAddress, "0x",
    ethers.ZeroAddress, ethers.ZeroAddress, 0, ethers.ZeroAddress]);
  const receipt = await (await factory.createProxyWithNonce(await singleton.getAddress(), setup, 0)).wait();
  const created = receipt.logs.map((l: any) => { try { return factory.interface.parseLog(l); } catch { return null; } })
    .find((e: any) => e?.name === "ProxyCreation");
  const safe = new ethers.Contract(created.args.proxy, safeArt.abi, deployer);
  const timelock = await deploy("PolicyTimelock", 0, [deployer.address], [deployer.address], ethers.ZeroAddress);
  const registry = await deploy("ParticipantRegistry", delay, await timelock.getAddress(), fwd);
  const reg = await registry.getAddress();
  const certificates = await deploy("ProductionCertificates", reg, fwd);
  const targets = await deploy("RecycledContentTargets", reg, fwd);
  const passports = await deploy("BatteryPassports", reg, await certificates.getAddress(), fwd);
  const usage = await deploy("UsageAttestations", reg, await certificates.getAddress(), await targets.getAddress(),
    await passports.getAddress(), fwd);
  const evaluations = await deploy("PerformanceEvaluations", reg, await passports.getAddress(), fwd, gradingPolicy());
  const inspections = await deploy("SafetyInspections", reg, await passports.getAddress(), fwd, inspectionPolicy());
  const logistics = await deploy("TransportStorage", reg, await passports.getAddress(), fwd, rules.transportMaxSocBps);

  // --- issue 14: used-battery trades and Annex XII recycling efficiency (their targets set in the batch below) ---
  const trades = await deploy("UsedBatteryTrades", reg, await passports.getAddress(), await evaluations.getAddress(),
    await inspections.getAddress(), fwd, tradePolicy(ethers));
  const recycling = await deploy("RecyclingEfficiency", reg, await passports.getAddress(),
    await certificates.getAddress(), fwd);
  // --- end issue 14 ---
  const calls: [any, string, unknown[]][] = MINISTRIES.map((m) => [registry, "grantRole",
    [authorityRole(ethers, m), authorities[m]]]);
  calls.push([certificates, "setConsumer", [await usage.getAddress(), true]]);
  calls.push([passports, "setSafetyContracts", [await evaluations.getAddress(), await inspections.getAddress()]]);
  for (const m of rules.euArticle8) {
    const effective = Math.floor(Date.parse(m.effectiveFrom) / 1000);
    calls.push([targets, "setTargets", [m.year, effective, MATERIALS.map((x) => m.minimumBps[x] ?? 0)]]);
  }
  for (const [year, milestone] of recyclingMilestones()) calls.push([recycling, "setTargets", [year, milestone]]);
  const role = (name: string) => ethers.id(name);
  const safeAddress = await safe.getAddress();
  calls.push([timelock, "grantRole", [role("PROPOSER_ROLE"), safeAddress]]);
  calls.push([timelock, "grantRole", [role("CANCELLER_ROLE"), safeAddress]]);
  calls.push([timelock, "grantRole", [role("EXECUTOR_ROLE"), ethers.ZeroAddress]]);
  for (const r of ["PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"]) {
    calls.push([timelock, "revokeRole", [role(r), deployer.address]]);
  }
  calls.push([timelock, "updateDelay", [delay]]);
  const batch = [
    await Promise.all(calls.map(([c]) => c.getAddress())),
    calls.map(() => 0),
    calls.map(([c, fn, args]) => c.interface.encodeFunctionData(fn, args)),
    ethers.ZeroHash,
    ethers.id("battery-ledger deployment"),
  ];
  await (await timelock.connect(deployer).scheduleBatch(...batch, 0)).wait();
  await (await timelock.connect(deployer).executeBatch(...batch)).wait();

  const contracts = { forwarder, registry, certificates, targets, passports, usage, evaluations, inspections, logistics,
    timelock, safe, trades, recycling };
  const addresses: Record<string, string> = {};
  const all = [forwarder, registry, certificates, targets, passports, usage, evaluations, inspections, logistics,
    timelock, trades, recycling];
  for (let i = 0; i < SUITE.length; i++) addresses[SUITE[i]] = await all[i].getAddress();
  addresses[SAFE] = safeAddress;
  const timelockAddress = await timelock.getAddress();
  const deployment = {
    chainId: Number((await ethers.provider.getNetwork()).chainId),
    contracts: addresses,
    governance: timelockAddress,
    blockNumber: startBlock + 1,
    deployer: deployer.address,
    tool: "hardhat",
    committee: { safe: safeAddress, timelock: timelockAddress, members, threshold, delay },
  };
  return { contracts, deployment };
}

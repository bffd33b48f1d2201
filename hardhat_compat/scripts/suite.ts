// Deploys and wires the Battery Ledger suite exactly as chain_client/suite.py does, with the rule data of
// chain_client/rules.json, and describes it in the deployment file format both sides read.
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
] as const;

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

export async function deploySuite(
  ethers: Ethers,
  governance: Signer,
  authorities: Partial<Record<"moe" | "motie" | "molit", string>> = {},
) {
  const startBlock = await ethers.provider.getBlockNumber();
  const deploy = async (name: string, ...args: unknown[]) => {
    const c = await ethers.deployContract(name, args, governance);
    await c.waitForDeployment();
    return c;
  };
  const forwarder = await deploy("BatteryLedgerForwarder");
  const fwd = await forwarder.getAddress();
  const registry = await deploy("ParticipantRegistry", governance.address, fwd);
  const reg = await registry.getAddress();
  const certificates = await deploy("ProductionCertificates", reg, fwd);
  const targets = await deploy("RecycledContentTargets", reg, fwd);
  const passports = await deploy("BatteryPassports", reg, await certificates.getAddress(), fwd);
  const usage = await deploy("UsageAttestations", reg, await certificates.getAddress(), await targets.getAddress(),
    await passports.getAddress(), fwd);
  const evaluations = await deploy("PerformanceEvaluations", reg, await passports.getAddress(), fwd, gradingPolicy());
  const inspections = await deploy("SafetyInspections", reg, await passports.getAddress(), fwd, inspectionPolicy());
  const logistics = await deploy("TransportStorage", reg, await passports.getAddress(), fwd, rules.transportMaxSocBps);

  for (const [name, address] of Object.entries(authorities)) {
    if (address) await (await registry.connect(governance).grantRole(authorityRole(ethers, name as "moe"), address)).wait();
  }
  await (await certificates.connect(governance).setConsumer(await usage.getAddress(), true)).wait();
  await (await passports.connect(governance)
    .setSafetyContracts(await evaluations.getAddress(), await inspections.getAddress())).wait();
  for (const m of rules.euArticle8) {
    const effective = Math.floor(Date.parse(m.effectiveFrom) / 1000);
    await (await targets.connect(governance)
      .setTargets(m.year, effective, MATERIALS.map((x) => m.minimumBps[x] ?? 0))).wait();
  }
  const contracts = { forwarder, registry, certificates, targets, passports, usage, evaluations, inspections, logistics };
  const addresses: Record<string, string> = {};
  const all = [forwarder, registry, certificates, targets, passports, usage, evaluations, inspections, logistics];
  for (let i = 0; i < SUITE.length; i++) addresses[SUITE[i]] = await all[i].getAddress();
  const deployment = {
    chainId: Number((await ethers.provider.getNetwork()).chainId),
    contracts: addresses,
    governance: governance.address,
    blockNumber: startBlock + 1,
    deployer: governance.address,
    tool: "hardhat",
  };
  return { contracts, deployment };
}

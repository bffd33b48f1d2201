// npx hardhat run scripts/deploy.ts [--network rpc]
// Deploys the suite and writes the deployment file (BLEDGER_DEPLOYMENT, default deployment.json) that
// `bledger --deployment FILE` and chain_client.suite.Deployment read. Authorities: BLEDGER_MOE, BLEDGER_MOTIE,
// BLEDGER_MOLIT (addresses, all three: they are the policy committee), BLEDGER_THRESHOLD (default 2),
// BLEDGER_DELAY (seconds, default two days). On the rpc network the deploying key is BLEDGER_DEPLOYER_KEY; it keeps
// no role once the suite is deployed.
import { writeFileSync } from "node:fs";
import { network } from "hardhat";
import { deploySuite } from "./suite.js";

const { ethers } = await network.create();
const [deployer] = await ethers.getSigners();
const { deployment } = await deploySuite(ethers, deployer, {
  moe: process.env.BLEDGER_MOE ?? "",
  motie: process.env.BLEDGER_MOTIE ?? "",
  molit: process.env.BLEDGER_MOLIT ?? "",
}, {
  threshold: Number(process.env.BLEDGER_THRESHOLD ?? 2),
  delay: Number(process.env.BLEDGER_DELAY ?? 2 * 86_400),
});
const out = process.env.BLEDGER_DEPLOYMENT ?? "deployment.json";
writeFileSync(out, JSON.stringify(deployment, null, 2) + "\n");
for (const [name, address] of Object.entries(deployment.contracts)) console.log(`${name.padEnd(28)} ${address}`);
console.log(`deployment written to ${out}`);

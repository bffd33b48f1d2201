// The Battery Ledger contracts as a Hardhat 3 project. Sources are ../contracts (the same files the Python build
// compiles, no copies); compiler, version and settings are those of chain_client/artifacts/build.json.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);
const pythonBuild = JSON.parse(
  readFileSync(new URL("../chain_client/artifacts/build.json", import.meta.url), "utf8"),
);
const { outputSelection: _selection, ...settings } = pythonBuild.settings;

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  paths: { sources: "contracts" }, // a symlink to ../contracts: the same files, no copies
  solidity: {
    compilers: [
      {
        version: pythonBuild.solcVersion,
        path: require.resolve("solc/soljson.js"),
        settings,
      },
    ],
  },
  networks: {
    rpc: {
      type: "http",
      chainType: "l1",
      url: configVariable("BLEDGER_RPC"),
      accounts: [configVariable("BLEDGER_DEPLOYER_KEY")],
    },
  },
});

// The main flows of the Battery Ledger, from JavaScript (ethers v6, mocha, Hardhat 3's simulated network).
import { expect } from "chai";
import { network } from "hardhat";
import { authorityRole, deploySuite } from "../scripts/suite.js";

const { ethers, networkHelpers } = await network.create();
const DAY = 86_400;
const RECYCLER = 1 << 0, PROCESSOR = 1 << 1, CELL_MAKER = 1 << 2, EV_MAKER = 1 << 3, DISMANTLER = 1 << 4;
const REUSE = 1 << 5, EVALUATOR = 1 << 6, INSPECTION_BODY = 1 << 7;
const LITHIUM = 0, COBALT = 2, POST_CONSUMER = 1, MASS_BALANCE = 3;
const id = (text: string) => ethers.keccak256(ethers.toUtf8Bytes(text));
const short = (text: string) => ethers.encodeBytes32String(text);

async function suite() {
  const signers = await ethers.getSigners();
  const [gov, moe, motie, molit, recycler, processor, cellMaker, evMaker, dismantler, reuser, evaluator, device,
    inspector, stranger] = signers;
  const { contracts } = await deploySuite(ethers, gov, {
    moe: moe.address, motie: motie.address, molit: molit.address,
  });
  const { registry } = contracts;
  await registry.connect(moe).registerParticipant(recycler.address, RECYCLER, ethers.ZeroHash);
  await registry.connect(motie).registerParticipant(processor.address, PROCESSOR, ethers.ZeroHash);
  await registry.connect(motie).registerParticipant(cellMaker.address, CELL_MAKER, ethers.ZeroHash);
  await registry.connect(molit).registerParticipant(evMaker.address, EV_MAKER, ethers.ZeroHash);
  await registry.connect(moe).registerParticipant(dismantler.address, DISMANTLER, ethers.ZeroHash);
  await registry.connect(motie).registerParticipant(reuser.address, REUSE, ethers.ZeroHash);
  await registry.connect(molit).registerParticipant(evaluator.address, EVALUATOR, ethers.ZeroHash);
  await registry.connect(motie).registerParticipant(inspector.address, INSPECTION_BODY, ethers.ZeroHash);
  // issuer prefixes: only their holder names models and batteries under them
  await contracts.passports.connect(motie).assignIssuerPrefix("KR:KCELL", cellMaker.address);
  await contracts.passports.connect(motie).assignIssuerPrefix("KR:REUSE", reuser.address);
  // model spec: category EV, metals Li (bit 0), not external-storage-only, 60 kWh, data sheet hash
  await contracts.passports.connect(cellMaker).registerModel("KR:KCELL:78AH", [0, 1, false, 60_000, id("data sheet")]);
  const now = await networkHelpers.time.latest();
  await registry.connect(moe).registerFacility(id("PLANT-1"), recycler.address, now - 365 * DAY, now + 365 * DAY,
    ethers.ZeroHash);
  return { ...contracts, gov, moe, motie, molit, recycler, processor, cellMaker, evMaker, dismantler, reuser,
    evaluator, device, inspector, stranger, now };
}

async function certifiedLot(s: Awaited<ReturnType<typeof suite>>, material: number, grams: bigint) {
  const app = [material, POST_CONSUMER, grams, short("Li2CO3"), id("PLANT-1"), s.now - 30 * DAY, s.now - DAY,
    ethers.ZeroHash, id("evidence")];
  await s.certificates.connect(s.recycler).applyForLot(app);
  const lotId = await s.certificates.lotCount();
  await s.certificates.connect(s.moe).certifyLot(lotId);
  return lotId;
}

describe("Battery Ledger from Hardhat", function () {
  it("registers businesses only through the authority of each role", async function () {
    const s = await suite();
    await expect(s.registry.connect(s.moe).registerParticipant(s.stranger.address, CELL_MAKER, ethers.ZeroHash))
      .to.be.revertedWithCustomError(s.registry, "RegistryUnauthorizedAuthority").withArgs(s.moe.address, 2);
    expect(await s.registry.hasRole(authorityRole(ethers, "moe"), s.moe.address)).to.equal(true);
    expect(await s.registry.isActive(s.recycler.address, RECYCLER)).to.equal(true);
  });

  it("certifies a lot, transfers part of it, attests a usage claim and refuses a double spend", async function () {
    const s = await suite();
    const lotId = await certifiedLot(s, LITHIUM, 100_000n);
    expect(await s.certificates.balanceOf(lotId, s.recycler.address)).to.equal(100_000n);
    await expect(s.certificates.connect(s.recycler).transfer(lotId, s.cellMaker.address, 60_000n, id("SHIP-1")))
      .to.emit(s.certificates, "QuantityTransferred")
      .withArgs(lotId, s.recycler.address, s.cellMaker.address, 60_000n, id("SHIP-1"));
    const claim = [id("KR:KCELL:78AH"), id("PLANT"), s.now - 90 * DAY, s.now - DAY, MASS_BALANCE,
      [700_000n, 0n, 0n, 0n, 0n, 0n], [[lotId, 60_000n]], ethers.ZeroHash, ethers.ZeroHash];
    await s.usage.connect(s.cellMaker).openClaim(claim);
    await s.usage.connect(s.motie).attestClaim(1n);
    const shares = await s.usage.metalShares(1n);
    expect(shares[LITHIUM].shareBps).to.equal(857n); // 60 kg of 700 kg
    expect((await s.usage.compliance(1n, 2031)).meets).to.equal(true);
    expect((await s.usage.compliance(1n, 2036)).meets).to.equal(false);
    await expect(s.usage.connect(s.cellMaker).openClaim(claim))
      .to.be.revertedWithCustomError(s.certificates, "CertificatesInsufficientBalance")
      .withArgs(lotId, s.cellMaker.address, 0n, 60_000n);
    await s.certificates.connect(s.moe).revokeLot(lotId, id("audit"));
    expect((await s.usage.isTainted(1n))[0]).to.equal(true);
  });

  it("moves a battery through its whole life", async function () {
    const s = await suite();
    const p = s.passports.connect(s.cellMaker);
    const battery = id("KR:KCELL:EV:0000001");
    await expect(s.passports.connect(s.reuser).registerModel("KR:KCELL:SQUAT", [0, 1, false, 1, ethers.ZeroHash]))
      .to.be.revertedWithCustomError(s.passports, "PassportNotIssuer");
    await p.registerBattery("KR:KCELL:EV:0000001", id("KR:KCELL:78AH"), ethers.ZeroHash);
    await p.transferCustody(battery, s.evMaker.address, ethers.ZeroHash);
    await s.passports.connect(s.evMaker).putInService(battery, id("VIN-1"), ethers.ZeroHash);
    await expect(s.passports.connect(s.evMaker).markRemoved(battery, ethers.ZeroHash))
      .to.be.revertedWithCustomError(s.evaluations, "EvaluationRequired").withArgs(battery);

    // the evaluator's device signs an EIP-712 report; anyone relays it; the grade is computed on-chain
    const now = await networkHelpers.time.latest();
    const report = { batteryId: battery, stateOfHealthBps: 6_500, remainingCapacityWh: 50_000,
      resistanceIncreaseBps: 1_500, cycleCount: 1_100, faultFlags: 0, measuredAt: now - 60,
      evidenceHash: id("raw log"), nonce: 0, deadline: now + 3_600 };
    const domain = { name: "BatteryLedgerEvaluations", version: "1",
      chainId: (await ethers.provider.getNetwork()).chainId, verifyingContract: await s.evaluations.getAddress() };
    const types = { MeasurementReport: [
      { name: "batteryId", type: "bytes32" }, { name: "stateOfHealthBps", type: "uint16" },
      { name: "remainingCapacityWh", type: "uint32" }, { name: "resistanceIncreaseBps", type: "uint16" },
      { name: "cycleCount", type: "uint32" }, { name: "faultFlags", type: "uint32" },
      { name: "measuredAt", type: "uint64" }, { name: "evidenceHash", type: "bytes32" },
      { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint64" }] };
    // the device proves it holds its key before the evaluator may register it
    const proof = await s.device.signTypedData(domain, { DeviceRegistration: [{ name: "evaluator", type: "address" }] },
      { evaluator: s.evaluator.address });
    await s.evaluations.connect(s.evaluator).registerDevice(s.device.address, proof);
    const signature = await s.device.signTypedData(domain, types, report);
    await s.evaluations.connect(s.stranger).submitReport(report, signature);
    expect((await s.evaluations.evaluation(battery)).grade).to.equal(2n); // middle: reuse
    await expect(s.evaluations.connect(s.stranger).submitReport(report, signature))
      .to.be.revertedWithCustomError(s.evaluations, "EvaluationDuplicateReport");

    await s.passports.connect(s.evMaker).markRemoved(battery, ethers.ZeroHash);
    await expect(s.passports.connect(s.evMaker).transferCustody(battery, s.reuser.address, ethers.ZeroHash))
      .to.be.revertedWithCustomError(s.inspections, "InspectionMissing").withArgs(battery, 0);
    await s.inspections.connect(s.inspector).recordInspection(battery, 0, true, now + 30 * DAY, id("findings"));
    await s.passports.connect(s.evMaker).transferCustody(battery, s.reuser.address, ethers.ZeroHash);
    const successor = id("KR:REUSE:0000001");
    await s.passports.connect(s.reuser)
      .startSecondLife(battery, "KR:REUSE:0000001", ethers.ZeroHash, 5, ethers.ZeroHash); // Repurposed (middle grade)
    await s.passports.connect(s.reuser).markWaste(successor, ethers.ZeroHash);
    await s.passports.connect(s.reuser).transferCustody(successor, s.recycler.address, ethers.ZeroHash);
    const lotId = await certifiedLot(s, COBALT, 2_000n);
    await s.passports.connect(s.recycler).markRecycled(successor, lotId, ethers.ZeroHash);
    const record = await s.passports.battery(successor);
    expect(record.status).to.equal(8n); // Recycled
    expect(record.link).to.equal(ethers.toBeHex(lotId, 32));
    await expect(s.passports.connect(s.recycler).markWaste(successor, ethers.ZeroHash))
      .to.be.revertedWithCustomError(s.passports, "PassportInvalidTransition");
  });
});

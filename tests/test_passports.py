"""Battery life-cycle record: registration (single and batch), custody, status machine, links, proofs."""

from __future__ import annotations

from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from chain_client.build import load_storage_layouts
from chain_client.claims import Allocation, ClaimRequest
from chain_client.merkle import MerkleTree
from chain_client.passports import ModelSpec, battery_id
from chain_client.storage_slots import mapping_slot
from chain_client.vocabulary import BatteryCategory, BatteryStatus, CustodyModel, Material, identifier
from tests.conftest import DAY, FACILITY2, MODEL, MODEL_METALS, MODEL_NAME, World, _base_state
from tests.helpers import reverts

B1_NAME = "KR:KCELL:EV:000001"
B1 = battery_id(B1_NAME)
SPEC = ModelSpec(BatteryCategory.EV, MODEL_METALS, 60_000)
S = BatteryStatus


def test_models_belong_to_their_manufacturer(world: World) -> None:
    p = world.ledger.passports
    m = p.model(MODEL)
    assert (m.manufacturer, m.category, m.data_hash) == (world.cell_maker.address, BatteryCategory.EV, b"\x66" * 32)
    assert (m.metals, m.rated_energy_wh, m.external_storage_only) == (MODEL_METALS, 60_000, False)
    reverts(lambda: p.register_model(world.cell_maker, MODEL_NAME, SPEC), "PassportModelExists", modelId=MODEL)
    reverts(lambda: p.register_model(world.recycler, "KR:KCELL:X", SPEC), "RegistryMissingRole")
    reverts(lambda: p.register(world.cell_maker2, "KR:OTHER:1", MODEL), "PassportNotManufacturer", modelId=MODEL,
            caller=world.cell_maker2.address)
    reverts(lambda: p.register(world.cell_maker, B1_NAME, identifier("KR:KCELL:NO-SUCH-MODEL")),
            "PassportUnknownModel")
    assert p.battery(B1).status == S.NONE


def test_single_registration_and_duplicate(world: World) -> None:
    p = world.ledger.passports
    p.register(world.cell_maker, B1_NAME, MODEL, b"\x01" * 32)
    b = p.battery(B1)
    assert (b.status, b.operator, b.sequence, b.model_id, p.record_hash(B1, b.sequence)) == (
        S.ORIGINAL, world.cell_maker.address, 1, MODEL, b"\x01" * 32)
    assert (p.status_of(B1), p.status_of(battery_id("KR:KCELL:NONE"))) == (S.ORIGINAL, S.NONE)
    p.transfer(world.cell_maker, B1, world.ev_maker.address, b"\x02" * 32)  # the record hash is the latest entry's
    b = p.battery(B1)
    assert (b.sequence, p.record_hash(B1, b.sequence), b.link, b.model_id) == (2, b"\x02" * 32, b"\x00" * 32, MODEL)
    assert p.history(B1)[-1].evidence_hash == b"\x02" * 32  # where the exports read it
    reverts(lambda: p.register(world.cell_maker, B1_NAME, MODEL), "PassportBatteryExists", batteryId=B1)
    reverts(lambda: p.register(world.cell_maker, "KR:KCELL:", MODEL), "PassportMalformedIdentifier")


def test_batch_battery_is_provable_and_materialized_once(world: World) -> None:
    p = world.ledger.passports
    names = [f"KR:KCELL:EV:{i:06d}" for i in range(1, 101)]
    ids = [battery_id(n) for n in names]
    tree = MerkleTree(ids)
    batch_id = p.anchor_batch(world.cell_maker, MODEL, tree.root, len(ids), b"\x07" * 32)
    assert p.batch(batch_id).count == 100
    assert p.is_in_batch(batch_id, ids[42], tree.proof(ids[42]))
    assert not p.is_in_batch(batch_id, ids[42], tree.proof(ids[43]))
    outsider = battery_id("KR:KCELL:EV:999999")
    reverts(lambda: p.materialize(world.stranger, batch_id, "KR:KCELL:EV:999999", tree.proof(ids[1])),
            "PassportInvalidProof", batchId=batch_id, batteryId=outsider)
    p.materialize(world.stranger, batch_id, names[42], tree.proof(ids[42]))  # anyone may, the proof is the authority
    b = p.battery(ids[42])
    assert (b.status, b.operator, b.model_id) == (S.ORIGINAL, world.cell_maker.address, MODEL)
    reverts(lambda: p.materialize(world.stranger, batch_id, names[42], tree.proof(ids[42])), "PassportBatteryExists")
    reverts(lambda: p.materialize(world.stranger, 9, names[1], tree.proof(ids[1])), "PassportUnknownBatch",
            batchId=9)
    reverts(lambda: p.anchor_batch(world.cell_maker, MODEL, b"\x00" * 32, 5), "PassportEmptyBatch")
    reverts(lambda: p.anchor_batch(world.cell_maker, MODEL, tree.root, 0), "PassportEmptyBatch")
    reverts(lambda: p.anchor_batch(world.cell_maker2, MODEL, tree.root, 1), "PassportNotManufacturer")


def test_whole_life_with_custody_and_second_life(world: World) -> None:
    p = world.ledger.passports
    p.register(world.cell_maker, B1_NAME, MODEL)
    reverts(lambda: p.put_in_service(world.ev_maker, B1, identifier("KMHXX00XXXX000001")), "PassportNotOperator",
            batteryId=B1, caller=world.ev_maker.address, operator=world.cell_maker.address)
    p.transfer(world.cell_maker, B1, world.ev_maker.address, b"\x0a" * 32)
    vin = identifier("KMHXX00XXXX000001")
    p.put_in_service(world.ev_maker, B1, vin)
    assert (p.battery(B1).status, p.battery(B1).link) == (S.IN_SERVICE, vin)
    p.transfer(world.ev_maker, B1, world.dismantler.address)
    world.evaluate(B1)
    p.mark_removed(world.dismantler, B1)
    world.inspect(B1)
    p.transfer(world.dismantler, B1, world.reuser.address)
    second = battery_id("KR:REUSE:ESS:000001")
    p.start_second_life(world.reuser, B1, "KR:REUSE:ESS:000001", S.REPURPOSED, b"\x0b" * 32)
    old, new = p.battery(B1), p.battery(second)
    assert (old.status, old.closed, old.link) == (S.REPURPOSED, True, second)
    assert (new.status, new.closed, new.link, new.operator) == (S.REPURPOSED, False, B1, world.reuser.address)
    reverts(lambda: p.mark_waste(world.reuser, B1), "PassportInvalidTransition", **{"from": S.REPURPOSED})
    reverts(lambda: p.transfer(world.reuser, B1, world.recycler.address), "PassportInvalidTransition")
    p.mark_waste(world.reuser, second)
    p.transfer(world.reuser, second, world.recycler.address)  # waste goes to recycling without a distribution pass
    lot_id = world.certified_lot(Material.LITHIUM, 5_000)
    p.mark_recycled(world.recycler, second, lot_id, b"\x0c" * 32)
    end = p.battery(second)
    assert (end.status, end.closed, int.from_bytes(end.link, "big")) == (S.RECYCLED, True, lot_id)
    reverts(lambda: p.transfer(world.recycler, second, world.cell_maker.address), "PassportInvalidTransition")

    history = p.history(B1)
    assert [h.sequence for h in history] == list(range(1, 8))  # evaluations and inspections live in their contracts
    assert [h.status for h in history] == [S.ORIGINAL, S.ORIGINAL, S.IN_SERVICE, S.IN_SERVICE, S.REMOVED,
                                           S.REMOVED, S.REPURPOSED]
    assert [h.operator for h in history][:3] == [world.cell_maker.address, world.ev_maker.address,
                                                 world.ev_maker.address]
    assert history[1].evidence_hash == b"\x0a" * 32
    assert [h.status for h in p.history(second)] == [S.REPURPOSED, S.WASTE, S.WASTE, S.RECYCLED]


def test_illegal_transitions_and_wrong_roles(world: World) -> None:
    p = world.ledger.passports
    p.register(world.cell_maker, B1_NAME, MODEL)
    reverts(lambda: p.put_in_service(world.cell_maker, B1, b"\x01" * 32), "RegistryMissingRole",
            account=world.cell_maker.address)
    reverts(lambda: p.mark_removed(world.cell_maker, B1), "RegistryMissingRole")
    p.transfer(world.cell_maker, B1, world.ev_maker.address)
    reverts(lambda: p.mark_removed(world.ev_maker, B1), "PassportInvalidTransition", batteryId=B1,
            **{"from": S.ORIGINAL, "to": S.REMOVED})
    reverts(lambda: p.mark_waste(world.ev_maker, B1), "PassportInvalidTransition", **{"to": S.WASTE})
    p.put_in_service(world.ev_maker, B1, b"\x01" * 32)
    reverts(lambda: p.put_in_service(world.ev_maker, B1, b"\x01" * 32), "PassportInvalidTransition",
            **{"from": S.IN_SERVICE})
    world.evaluate(B1)
    p.mark_removed(world.ev_maker, B1)
    world.inspect(B1)
    reverts(lambda: p.start_second_life(world.ev_maker, B1, "KR:REUSE:N", S.REUSED), "RegistryMissingRole")
    p.transfer(world.ev_maker, B1, world.reuser.address)
    reverts(lambda: p.start_second_life(world.reuser, B1, "KR:REUSE:N", S.WASTE), "PassportInvalidTransition",
            **{"to": S.WASTE})
    reverts(lambda: p.start_second_life(world.reuser, B1, B1_NAME, S.REUSED), "PassportNotIssuer",
            caller=world.reuser.address)
    assert p.battery(B1).status == S.REMOVED  # the failed second life left nothing behind
    p.mark_waste(world.reuser, B1)
    reverts(lambda: p.mark_recycled(world.reuser, B1, 1), "RegistryMissingRole")
    p.transfer(world.reuser, B1, world.recycler.address)
    other_lot = world.ledger.certificates.apply(world.recycler2, world.application(facility=FACILITY2))
    reverts(lambda: p.mark_recycled(world.recycler, B1, other_lot), "PassportLotMismatch", lotId=other_lot,
            recycler=world.recycler.address)
    pending_own = world.ledger.certificates.apply(world.recycler, world.application())
    reverts(lambda: p.mark_recycled(world.recycler, B1, pending_own), "PassportLotMismatch", lotId=pending_own)
    reverts(lambda: p.transfer(world.recycler, B1, world.importer.address), "RegistryMissingRole",
            account=world.importer.address)
    reverts(lambda: p.transfer(world.recycler, B1, world.stranger.address), "RegistryUnknownParticipant")
    reverts(lambda: p.transfer(world.recycler, battery_id("NOPE"), world.cell_maker.address),
            "PassportUnknownBattery")
    assert p.battery(B1).operator == world.recycler.address


def test_a_battery_proves_which_attested_claim_covers_it(world: World) -> None:
    p, claims = world.ledger.passports, world.ledger.claims
    names = [f"KR:KCELL:EV:{i:06d}" for i in range(1, 51)]
    covered = [battery_id(n) for n in names]
    tree = MerkleTree(covered)
    batch_id = p.anchor_batch(world.cell_maker, MODEL, tree.root, len(covered))
    lot_id = world.lot_held_by_cell_maker(Material.LITHIUM, 10_000)
    request = ClaimRequest(
        MODEL, identifier("PLANT"), world.now - 90 * DAY, world.now - DAY, CustodyModel.MASS_BALANCE,
        {Material.LITHIUM: 100_000, Material.NICKEL: 1, Material.COBALT: 1}, [Allocation(lot_id, 10_000)],
        batteries_root=tree.root)
    claim_id = claims.open(world.cell_maker, request)
    p.materialize(world.stranger, batch_id, names[7], tree.proof(covered[7]))
    proof = tree.proof(covered[7])
    assert not claims.covers(claim_id, covered[7], proof)  # open, not attested yet
    claims.attest(world.motie, claim_id)
    assert claims.covers(claim_id, covered[7], proof)
    assert not claims.covers(claim_id, covered[8], tree.proof(covered[8]))  # no record of it yet: by its batch
    assert claims.covers_batch_member(claim_id, batch_id, covered[8], tree.proof(covered[8]), tree.proof(covered[8]))
    assert not claims.covers_batch_member(claim_id, batch_id, covered[8], tree.proof(covered[9]), tree.proof(covered[8]))
    other_model = p.register_model(world.cell_maker, "KR:KCELL:OTHER", ModelSpec(BatteryCategory.EV, MODEL_METALS, 1))
    other_batch = p.anchor_batch(world.cell_maker, other_model, tree.root, len(covered))
    assert not claims.covers_batch_member(claim_id, other_batch, covered[8], tree.proof(covered[8]),
                                          tree.proof(covered[8]))  # a batch of another model
    assert not claims.covers(claim_id, battery_id("KR:OTHER:1"), proof)
    assert not claims.covers(99, covered[7], proof)
    world.ledger.certificates.revoke(world.moe, lot_id)
    assert not claims.covers(claim_id, covered[7], proof)  # tainted claims cover nothing
    assert not claims.covers_batch_member(claim_id, batch_id, covered[8], tree.proof(covered[8]),
                                          tree.proof(covered[8]))


def test_custody_goes_to_another_handler(world: World) -> None:
    p = world.ledger.passports
    p.register(world.cell_maker, B1_NAME, MODEL)
    # a transfer to oneself would only lengthen the history (toward its limit): refused, nothing recorded
    reverts(lambda: p.transfer(world.cell_maker, B1, world.cell_maker.address), "PassportSelfTransfer", batteryId=B1,
            operator=world.cell_maker.address)
    assert p.battery(B1).sequence == 1


def test_a_full_history_refuses_with_a_named_error(anvil_node: AnvilNode) -> None:
    """65,535 entries cannot be made in a test: the counter is set in storage on anvil, then the next acts run."""
    w = _base_state(RpcBackend(anvil_node.url))
    p = w.ledger.passports
    name = "KR:KCELL:EV:FULL-1"
    bid = battery_id(name)
    p.register(w.cell_maker, name, MODEL)
    layout = load_storage_layouts()["BatteryPassports"]
    var = next(v for v in layout["storage"] if v["label"] == "_batteries")
    member = next(m for m in layout["types"][layout["types"][var["type"]]["value"]]["members"]
                  if m["label"] == "sequence")
    slot = mapping_slot(int(var["slot"]), bid) + int(member["slot"])
    raw = int.from_bytes(w.backend.w3.eth.get_storage_at(p.contract.address, slot), "big")
    shift = 8 * int(member["offset"])
    raw = (raw & ~(0xFFFF << shift)) | (65_534 << shift)
    w.backend.w3.provider.make_request("anvil_setStorageAt",  # type: ignore[arg-type]
                                       [p.contract.address, hex(slot), "0x" + raw.to_bytes(32, "big").hex()])
    p.transfer(w.cell_maker, bid, w.ev_maker.address)  # entry 65,535, the last one
    assert p.contract.functions.battery(bid).call()[3] == 65_535
    reverts(lambda: p.transfer(w.ev_maker, bid, w.cell_maker.address), "PassportHistoryFull", batteryId=bid)
    reverts(lambda: p.put_in_service(w.ev_maker, bid, b"\x0e" * 32), "PassportHistoryFull", batteryId=bid)

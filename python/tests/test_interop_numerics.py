"""The Python task against the Swift node's own outputs (Tests/Interop/vectors.json, written by
Tests/InteropTests): seeds, draws and positions, the initial model, tanh, compression and SimHash
must be bit-identical; logits, losses and a few training steps agree to Float32 rounding (the
BLAS summation order differs); an evaluation's SimHash within the genesis threshold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cairn_client import numerics
from cairn_client.evaluation import apply_delta
from cairn_client.model import ByteMLP, Corpus, ModelLayout, fast_tanh_values, logits, mean_loss
from cairn_client.pseudo_gradient import compress, compress_with_feedback
from cairn_client.pseudo_gradient import decode as decode_pseudo_gradient
from cairn_client.pseudo_gradient import encode as encode_pseudo_gradient
from cairn_client.training import InnerSchedule, LocalTraining

VECTORS = Path(__file__).resolve().parents[2] / "Tests" / "Interop" / "vectors.json"


@pytest.fixture(scope="module")
def v() -> dict:
    return json.loads(VECTORS.read_text())


def f32(hex_bits: str) -> np.float32:
    return np.frombuffer(int(hex_bits, 16).to_bytes(4, "little"), dtype=np.float32)[0]


def f64(hex_bits: str) -> float:
    return float(np.frombuffer(int(hex_bits, 16).to_bytes(8, "little"), dtype=np.float64)[0])


def f32le(hex_text: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(hex_text), dtype="<f4").astype(np.float32)


def layout_of(v: dict) -> ModelLayout:
    return ModelLayout.from_spec(v["model_spec"])


def task_of(v: dict):
    layout = layout_of(v)
    corpus = Corpus(bytes.fromhex(v["corpus"]["bytes"]), layout.context_bytes)
    split = numerics.DataSplit(len(corpus.bytes), layout.context_bytes)
    return layout, corpus, split


def test_splitmix64_draws(v):
    for case in v["splitmix64"]:
        seed = int(case["seed"])
        rng = numerics.SplitMix64(seed)
        assert [rng.next() for _ in range(5)] == [int(x) for x in case["next"]]
        assert numerics.SplitMix64(seed).next_array(5).tolist() == [int(x) for x in case["next"]]
        bound = int(case["below_bound"])
        assert numerics.SplitMix64(seed).below_array(bound, 5) == [int(x) for x in case["below"]]
        rng = numerics.SplitMix64(seed)
        assert [rng.symmetric_unit() for _ in range(5)] == [f32(x) for x in case["symmetric_unit"]]
        rng = numerics.SplitMix64(seed)
        assert [rng.approximate_normal() for _ in range(5)] == [f32(x) for x in case["approximate_normal"]]


def test_below_replays_a_rejection_exactly():
    # A bound just above 2^63 rejects about half of all draws: the block path must replay them.
    bound = (1 << 63) + 12345
    one_by_one = numerics.SplitMix64(42)
    expected = [one_by_one.below(bound) for _ in range(64)]
    block = numerics.SplitMix64(42)
    assert block.below_array(bound, 64) == expected
    assert block.state == one_by_one.state


def test_seeds(v):
    for case in v["seeds"]:
        got = numerics.seed(case["label"], bytes.fromhex(case["first"]), bytes.fromhex(case["second"]), int(case["number"]))
        assert got.hex() == case["digest"]


def test_split_and_positions(v):
    _, _, split = task_of(v)
    s = v["split"]
    assert (split.held_out_start, split.training_count, split.held_out_count) == (s["held_out_start"], s["training_count"], s["held_out_count"])
    assert split.held_out_positions(s["held_out_positions"]["count"]) == s["held_out_positions"]["positions"]
    tp = s["training_positions"]
    assert split.training_positions(bytes.fromhex(tp["seed"]), tp["count"]) == tp["positions"]
    sh = s["shard"]
    assert split.shard(bytes.fromhex(sh["beacon"]), bytes.fromhex(sh["trainer"]), int(sh["window"]), sh["count"]) == sh["positions"]
    e = v["evaluation_positions"]
    seed = bytes.fromhex(e["seed"])
    assert numerics.random_positions(split, seed, e["random_contexts"]) == e["random"]
    assert numerics.probe_positions(split, seed, e["probe_contexts"]) == e["probe"]
    assert numerics.own_positions(e["used"], seed, bytes.fromhex(e["trainer"]), e["own_contexts"]) == e["own"]
    assert numerics.hyperplane_seed(seed) == int(e["hyperplane_seed"])


def test_initial_model_is_bit_identical(v):
    layout = layout_of(v)
    slots = [(s.name, s.offset, s.rows, s.columns) for s in layout.slots]
    theta = numerics.initial_parameters(slots, layout.input_width, bytes.fromhex(v["initial_model"]["seed"]))
    assert theta.tobytes() == f32le(v["initial_model"]["parameters_f32"]).tobytes()


def test_tanh_is_bit_identical(v):
    xs = torch.tensor(np.array([f32(c["x"]) for c in v["tanh"]], dtype=np.float32))
    ys = fast_tanh_values(xs).numpy()
    assert ys.tobytes() == np.array([f32(c["y"]) for c in v["tanh"]], dtype=np.float32).tobytes()


def test_logits_and_loss_agree_to_float32_rounding(v):
    layout, corpus, _ = task_of(v)
    model = ByteMLP(layout, f32le(v["initial_model"]["parameters_f32"]))
    positions = v["forward"]["positions"]
    swift = f32le(v["forward"]["logits_f32"])
    mine = logits(model, corpus, positions)
    assert mine.shape == swift.shape
    assert np.max(np.abs(mine - swift)) < 1e-5
    assert abs(mean_loss(model, corpus, positions) - f64(v["forward"]["loss"])) < 1e-5


def test_three_adamw_steps_agree(v):
    layout, corpus, _ = task_of(v)
    t = v["training"]
    model = ByteMLP(layout, f32le(v["initial_model"]["parameters_f32"]))
    training = LocalTraining(model, corpus, float(f32(t["weight_decay"])))
    schedule = InnerSchedule(peak=2e-3, floor=2e-4, warmup_steps=2)
    for step in range(3):
        rate = schedule.rate(0, training.optimizer.step)
        assert rate == f32(t["rates"][step])
        loss = training.step(t["positions"][8 * step: 8 * step + 8], rate)
        assert abs(loss - f64(t["losses"][step])) < 1e-5
    swift = f32le(t["parameters_f32"])
    # AdamW's first steps move every parameter by about ±lr; agreement far below that.
    assert np.max(np.abs(training.parameters() - swift)) < 2e-6


def test_compression_with_error_feedback_is_bit_identical(v):
    c = v["compression"]
    delta = f32le(c["delta_f32"])
    decay = float(f32(c["decay"]))
    first, residual = compress_with_feedback(delta, np.zeros_like(delta), c["chunk_size"], c["top_k"], decay)
    assert encode_pseudo_gradient(first, c["top_k"]).hex() == c["first_blob"]
    assert residual.tobytes() == f32le(c["residual_after_first_f32"]).tobytes()
    second_delta = (delta * f32(c["second_delta_scale"])).astype(np.float32)
    second, residual = compress_with_feedback(second_delta, residual, c["chunk_size"], c["top_k"], decay)
    assert encode_pseudo_gradient(second, c["top_k"]).hex() == c["second_blob"]
    assert residual.tobytes() == f32le(c["residual_after_second_f32"]).tobytes()


def test_compress_then_decode_round_trips(v):
    for case in v["pseudo_gradient"]:
        dense = f32le(case["dense_f32"])
        again = compress(dense, case["chunk_size"], case["top_k"])
        assert encode_pseudo_gradient(again, case["top_k"]).hex() == case["blob"]


def test_simhash_is_bit_identical(v):
    for case in v["simhash"]:
        got = numerics.sim_hash(f32le(case["vector_f32"]), case["bits"], int(case["seed"]))
        assert got.hex() == case["bytes"]


def test_evaluation_agrees_with_the_swift_validator(v):
    """The same evaluation on Swift's Δy is bit-identical; on PyTorch's own Δy it stays within the
    genesis threshold (7 of 256 bits), and the losses agree far inside the quorum's tolerance."""
    from cairn_client.evaluation import Evaluator

    layout, corpus, split = task_of(v)
    e = v["evaluation"]
    theta = f32le(v["initial_model"]["parameters_f32"])
    delta = decode_pseudo_gradient(bytes.fromhex(e["delta_blob"]), layout.parameter_count, v["compression"]["chunk_size"],
                                   v["compression"]["top_k"])
    step, clip = f32(e["step"]), f64(e["clip_norm"])
    updated = apply_delta(theta, delta, step=step, clip_norm=clip)
    assert updated.tobytes() == f32le(e["updated_f32"]).tobytes()
    seed = bytes.fromhex(e["seed"])
    assert numerics.sim_hash(f32le(e["output_change_f32"]), 256, numerics.hyperplane_seed(seed)).hex() == e["sim_hash"]
    ep = v["evaluation_positions"]
    evaluator = Evaluator(layout, corpus, split, own_contexts=ep["own_contexts"], random_contexts=ep["random_contexts"],
                          probe_contexts=ep["probe_contexts"], bits=256)
    result = evaluator.evaluate(theta, delta, used=e["used"], seed=seed, trainer=bytes.fromhex(e["trainer"]), step=step, clip_norm=clip)
    for name in ("loss_before_own", "loss_after_own", "loss_before_random", "loss_after_random"):
        assert abs(getattr(result, name) - f64(e[name])) < 1e-5, name
    assert result.indicator == e["indicator"]
    assert numerics.hamming(result.sim_hash, bytes.fromhex(e["sim_hash"])) <= 7


def test_inner_schedule_with_a_decay(v):
    s = v["schedule"]
    schedule = InnerSchedule(peak=float(f32(s["peak"])), floor=float(f32(s["floor"])), warmup_steps=s["warmup_steps"],
                             decay_start_window=int(s["decay_start_window"]), decay_windows=int(s["decay_windows"]))
    assert len(s["rates"]) >= 30
    for case in s["rates"]:
        assert schedule.rate(int(case["window"]), case["step"]) == f32(case["rate"]), case

"""Eager starts (D67): the predicted pending step is the ledger's aggregation at equal scores."""

from __future__ import annotations

import math

import numpy as np

from cairn_client.blobs import compress
from cairn_client.eager import clip_bounds, predict_pending_step
from cairn_client.task_spec import TrainingSpec

P, C, K = 40, 8, 4


def _training(**changes: float) -> TrainingSpec:
    fields = dict(max_inner_steps=100, batch_size=16, learning_rate=2e-3, learning_rate_floor=2e-4, warmup_steps=100, decay_start_window=0,
                  decay_windows=0, weight_decay=0.0, feedback_decay=0.8, outer_learning_rate=1.0, averaging=0, max_aggregated=3,
                  initial_clip_norm=8.0, clip_growth=2.0, max_parameter_magnitude=1e6, max_contributions_per_window=20,
                  blob_retention_windows=64)
    fields.update(changes)
    return TrainingSpec(**fields)  # type: ignore[arg-type]


def _deltas(count: int, seed: int, scale: float = 1.0) -> list[tuple[bytes, object]]:
    rng = np.random.default_rng(seed)
    return [(bytes([i]) * 32, compress(rng.normal(size=P).astype(np.float32) * scale * (i + 1), C, K)) for i in range(count)]


def _reference(theta: np.ndarray, clip_norm: float | None, pending: list, training: TrainingSpec) -> np.ndarray:
    """The node's Aggregation at equal weights, written out plainly (per index, in id order)."""
    ordered = sorted(pending, key=lambda item: item[0])[: training.max_aggregated]
    norms = [d.l2_norm() for _, d in ordered]
    floor, bound = (0.0, training.initial_clip_norm) if not clip_norm else (clip_norm / training.clip_growth, clip_norm * training.clip_growth)
    median = min(max(sorted(norms)[(len(norms) - 1) // 2], floor), bound)
    dense = [d.dense() * (median / n if n > median else 1.0) for (_, d), n in zip(ordered, norms, strict=True)]
    kept = [d.dense() != 0 for _, d in ordered]
    out = theta.copy()
    for j in range(P):
        count = sum(int(k[j]) for k in kept)
        if count == 0:
            continue
        total = sum(float(x[j]) for x in dense)
        divisor = max(count, 1) if training.averaging == 1 else len(ordered)
        out[j] = theta[j] - np.float32(training.outer_learning_rate * total / divisor)
    return out


def test_nothing_pending_is_theta() -> None:
    theta = np.arange(P, dtype=np.float32)
    assert predict_pending_step(theta, None, [], _training()) is theta


def test_the_prediction_is_the_ledger_step_at_equal_scores() -> None:
    theta = np.linspace(-1, 1, P).astype(np.float32)
    for averaging in (0, 1):
        for clip_norm in (None, 0.5, 3.0):
            training = _training(averaging=averaging)
            pending = _deltas(5, seed=averaging * 10 + int(clip_norm or 0))
            predicted = predict_pending_step(theta, clip_norm, pending, training)
            np.testing.assert_allclose(predicted, _reference(theta, clip_norm, pending, training), rtol=0, atol=1e-6)
            assert not np.array_equal(predicted, theta)


def test_only_the_first_g_by_id_are_applied_and_each_is_clipped_to_the_median() -> None:
    theta = np.zeros(P, dtype=np.float32)
    training = _training(max_aggregated=2)
    pending = _deltas(4, seed=3)
    # Ids 0x00… and 0x01… sort first: Δs 0 and 1; the larger is clipped to the lower median (Δ 0's norm).
    predicted = predict_pending_step(theta, None, list(reversed(pending)), training)
    first, second = pending[0][1], pending[1][1]
    clip = min(first.l2_norm(), second.l2_norm())
    expected = -(first.dense() * min(1.0, clip / first.l2_norm()) + second.dense() * min(1.0, clip / second.l2_norm())) / 2
    np.testing.assert_allclose(predicted, expected.astype(np.float32), atol=1e-6)


def test_an_oversized_delta_moves_the_prediction_only_by_the_clip() -> None:
    theta = np.zeros(P, dtype=np.float32)
    training = _training()
    honest = _deltas(2, seed=5)
    huge = (bytes([9]) * 32, compress(np.full(P, 1e6, dtype=np.float32), C, K))
    predicted = predict_pending_step(theta, None, [*honest, huge], training)
    median = sorted([d.l2_norm() for _, d in honest] + [huge[1].l2_norm()])[1]
    assert float(np.linalg.norm(predicted.astype(np.float64))) <= median + 1e-6


def test_clip_bounds_follow_genesis() -> None:
    training = _training()
    assert clip_bounds(None, training) == (0.0, 8.0)
    assert clip_bounds(0.0, training) == (0.0, 8.0)
    assert clip_bounds(math.nan, training) == (0.0, 8.0)
    assert clip_bounds(3.0, training) == (1.5, 6.0)


def test_scores_weigh_as_the_ledger_does() -> None:
    """Shares w / max w in the sum and the divisor, and the score-weighted lower median as the clip."""
    theta = np.zeros(P, dtype=np.float32)
    training = _training()
    pending = _deltas(3, seed=9)
    equal = predict_pending_step(theta, None, pending, training)
    assert np.array_equal(predict_pending_step(theta, None, pending, training, [5, 5, 5]), equal)
    # A clip norm of 100 puts the bounds at [50, 200], above every norm here: nothing is scaled,
    # and the step is the share-weighted mean.
    weighted = predict_pending_step(theta, 100.0, pending, training, [1, 1, 1000])
    assert not np.array_equal(weighted, predict_pending_step(theta, 100.0, pending, training))
    deltas = [d.dense().astype(np.float64) for _, d in pending]
    shares = [1 / 1000, 1 / 1000, 1.0]
    expected = -sum(s * d for s, d in zip(shares, deltas, strict=True)) / sum(shares)
    np.testing.assert_allclose(weighted, expected.astype(np.float32), atol=1e-6)

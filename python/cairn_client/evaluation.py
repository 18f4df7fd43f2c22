"""One contribution's evaluation, as a validator computes it (``Evaluator.swift``,
``ContributionEvaluation.swift``): losses before and after applying Δ on the trainer's own claimed
contexts and on seed-drawn contexts, and the SimHash of the change of the logits on probe contexts.

Everything that selects data or shapes the update is bit-identical to the Swift node (positions,
clip, step, the updated θ', the hash's summation order); only the matrix products differ (PyTorch's
BLAS, not OpenBLAS). The distance between this SimHash and a Swift validator's is therefore the
cross-implementation noise the LSH threshold must absorb.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import numerics
from .model import ByteMLP, Corpus, ModelLayout, logits, mean_loss
from .pseudo_gradient import PseudoGradient


def apply_delta(base: np.ndarray, delta: PseudoGradient, step: float, clip_norm: float | None = None) -> np.ndarray:
    """θ' = θ − s·Δ on Δ's entries, s = step · min(1, clip/‖Δ‖) (the Float32 product of the
    step and the Float32 of the Float64 ratio, as the node computes it)."""
    indices, values = delta.entries()
    s = np.float32(step)
    if clip_norm is not None and clip_norm > 0:
        norm = delta.l2_norm()
        if norm > clip_norm:
            s = np.float32(s * np.float32(clip_norm / norm))
    updated = np.array(base, dtype=np.float32, copy=True)
    updated[indices] = (updated[indices] - (s * values).astype(np.float32)).astype(np.float32)
    return updated


def evaluation_step(evaluation_step_spec: float, averaging: int, max_aggregated: int, contributions: int) -> np.float32:
    """The step an evaluation applies Δ at (D60): genesis `evaluation.step` ÷ the number of the
    window's contributions (at most `max_aggregated`) under the mean over applied Δs."""
    if averaging != 0:
        return np.float32(evaluation_step_spec)
    share = max(1, min(contributions, max(1, max_aggregated)))
    return np.float32(evaluation_step_spec / share)


@dataclass(frozen=True)
class EvaluationResult:
    loss_before_own: float
    loss_after_own: float
    loss_before_random: float
    loss_after_random: float
    score: float
    indicator: int
    sim_hash: bytes
    non_finite: bool


class Evaluator:
    def __init__(self, layout: ModelLayout, corpus: Corpus, split: numerics.DataSplit, own_contexts: int, random_contexts: int,
                 probe_contexts: int, bits: int) -> None:
        if min(own_contexts, random_contexts, probe_contexts) <= 0 or bits <= 0 or bits % 64:
            raise ValueError("evaluation contexts must be positive and the SimHash width a positive multiple of 64")
        self.layout, self.corpus, self.split = layout, corpus, split
        self.own_contexts, self.random_contexts, self.probe_contexts, self.bits = own_contexts, random_contexts, probe_contexts, bits
        self.model = ByteMLP(layout, np.zeros(layout.parameter_count, dtype=np.float32))

    def evaluate(self, base: np.ndarray, delta: PseudoGradient, used: list[int], seed: bytes, trainer: bytes, step: float,
                 clip_norm: float | None) -> EvaluationResult:
        updated = apply_delta(base, delta, step, clip_norm)
        own = numerics.own_positions(used, seed, trainer, self.own_contexts)
        random = numerics.random_positions(self.split, seed, self.random_contexts)
        probe = numerics.probe_positions(self.split, seed, self.probe_contexts)
        theta = torch.from_numpy(np.ascontiguousarray(base, dtype=np.float32))
        theta_after = torch.from_numpy(updated)
        before_own = mean_loss(self.model, self.corpus, own, theta) if own else 0.0
        after_own = mean_loss(self.model, self.corpus, own, theta_after) if own else 0.0
        before_random = mean_loss(self.model, self.corpus, random, theta)
        after_random = mean_loss(self.model, self.corpus, random, theta_after)
        change = (logits(self.model, self.corpus, probe, theta_after) - logits(self.model, self.corpus, probe, theta)).astype(np.float32)
        losses = [before_own, after_own, before_random, after_random]
        non_finite = not (np.isfinite(updated).all() and np.isfinite(losses).all())
        score = (before_random - after_random) / before_random if before_random else 0.0
        own_improvement = (before_own - after_own) / before_own if own and before_own else -np.inf
        return EvaluationResult(before_own, after_own, before_random, after_random, score if np.isfinite(score) else 0.0,
                                1 if own_improvement > score else -1,
                                numerics.sim_hash(change, self.bits, numerics.hyperplane_seed(seed)), non_finite)

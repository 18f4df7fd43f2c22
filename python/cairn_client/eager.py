"""Where a window's training starts (the node's ``EagerStart``/``PendingStep``, D67).

The ledger applies window k−1's Δs to θ_k at the close of window k, so θ_k lacks the step that
window k's Δs will meet. A trainer of window k starts from θ_k less that pending step, predicted
from window k−1's Δs of trusted trainers through the ledger's aggregation (the node's
``Aggregation``: id order, top-G, the score-weighted lower median norm held within the clip bounds,
shares w / max w, the mean over all Δs or per coordinate), weighted by the trainers' accepted
scores of the latest judged window. It is only a starting point — the Δ sent is a difference the
ledger applies to its own model — so numpy's accumulation here instead of the node's exact order
costs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .api_replies import WindowReply
from .pseudo_gradient import PseudoGradient
from .task_spec import TrainingSpec

# Penalties that keep a contribution out of the outer step (the node's
# `TrainerWindowResult.Penalties.outOfStep`): their authors are left out of the prediction.
OUT_OF_STEP_PENALTIES = frozenset({"no_quorum", "copycat", "invalid_blob", "excluded", "stale", "oversized"})


def trusted_scores(judged: WindowReply) -> dict[bytes, int]:
    """Accepted scores of a judged window by author: the trainers whose Δs a prediction takes and
    their weights. Left out: no positive score, a copycat, flagged, or an author the ledger kept
    out of that window's step (an oversized 10× Δ can score positive; predicted as applied, it
    moved every trainer's start, D67)."""
    left_out = {t.trainer for t in judged.trainers if OUT_OF_STEP_PENALTIES.intersection(t.penalties)}
    scores: dict[bytes, int] = {}
    for c in judged.contributions:
        o = c.outcome
        if c.author in left_out or o is None or o.score_ppb is None or o.score_ppb <= 0 or o.copycat_of is not None or o.flags != 0:
            continue
        scores[c.author] = max(scores.get(c.author, 0), o.score_ppb)
    return scores


def clip_bounds(clip_norm: float | None, training: TrainingSpec) -> tuple[float, float]:
    """The outer step's (floor, bound) on a base model with this clip norm (the node's
    ``TrainingSpec.clipFloor``/``clipBound``; 0 or None: the genesis model)."""
    if clip_norm is None or not math.isfinite(clip_norm) or clip_norm <= 0:
        return 0.0, training.initial_clip_norm
    bound = clip_norm * training.clip_growth
    floor = clip_norm / training.clip_growth if training.clip_growth >= 1 else 0.0
    return floor, bound if math.isfinite(bound) else training.initial_clip_norm


def weighted_lower_median(norms: Sequence[float], weights: Sequence[int]) -> float:
    """The node's ``ClipReference.weightedLowerMedian``: the smallest norm at which the weight of
    the norms up to it reaches half the total (ties in the given order; NaN counts as +inf)."""
    keyed = sorted(((math.inf if math.isnan(n) else n, max(1, w), i) for i, (n, w) in enumerate(zip(norms, weights, strict=True))))
    total = sum(w for _, w, _ in keyed)
    cumulative = 0
    for norm, weight, _ in keyed:
        cumulative += weight
        if 2 * cumulative >= total:
            return norm
    return keyed[-1][0]


def predict_pending_step(theta: npt.NDArray[np.float32], clip_norm: float | None, pending: Sequence[tuple[bytes, PseudoGradient]],
                         training: TrainingSpec, weights: Sequence[int] | None = None) -> npt.NDArray[np.float32]:
    """θ_{k+1} as the ledger would compute it from θ_k (``theta``, whose clip norm is ``clip_norm``)
    if it accepted every (id, Δ) of ``pending`` with ``weights`` as their scores (1 each when
    None); ``theta`` when nothing is pending."""
    if not pending:
        return theta
    weights = [1] * len(pending) if weights is None else list(weights)
    if len(weights) != len(pending):
        raise ValueError(f"{len(weights)} weights for {len(pending)} pending Δs")
    ordered = sorted(zip(pending, weights, strict=True), key=lambda item: item[0][0])[: max(1, training.max_aggregated)]
    norms = [delta.l2_norm() for (_, delta), _ in ordered]
    kept_weights = [max(1, w) for _, w in ordered]
    floor, bound = clip_bounds(clip_norm, training)
    median = min(max(weighted_lower_median(norms, kept_weights), floor), bound)
    heaviest = max(kept_weights)
    accumulator = np.zeros(theta.shape[0], dtype=np.float64)
    kept = np.zeros(theta.shape[0], dtype=np.float64)
    whole = 0.0
    for ((_, delta), _), norm, weight in zip(ordered, norms, kept_weights, strict=True):
        share = weight / heaviest
        whole += share
        factor = 0.0 if not math.isfinite(norm) else (median / norm if norm > median else 1.0) * share
        indices, values = delta.entries()
        np.add.at(accumulator, indices, factor * values.astype(np.float64))
        np.add.at(kept, indices, share)
    divisor = np.maximum(kept, 1.0) if training.averaging == 1 else whole
    step = training.outer_learning_rate * accumulator / divisor
    touched = kept > 0
    predicted = theta.copy()
    # As the node: the step rounded to float32 once, then subtracted in float32.
    predicted[touched] = theta[touched] - step[touched].astype(np.float32)
    return predicted

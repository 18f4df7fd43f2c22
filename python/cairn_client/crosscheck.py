"""``python -m cairn_client evaluate``: re-evaluates a window's contributions in PyTorch, as a
validator would (``ContributionEvaluation.swift``: the model of window k + 1, its clip bound, the
step ÷ the window's contribution count, the own-data sample from the claimed steps, the
contribution's evaluation seed), and compares with what every validator revealed: the Hamming
distance of the SimHashes (PyTorch–Swift, and Swift–Swift between validators) and how far the
improvements lie from the accepted score, against the genesis tolerances."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from . import numerics
from .api import APIError, NodeClient
from .eager import clip_bounds
from .evaluation import Evaluator, evaluation_step
from .model_blob import decode_model, model_hash
from .pseudo_gradient import decode as decode_pseudo_gradient
from .trainer import Task

SCORE_SCALE = 1e9


def improvement_ppb(before: float, after: float) -> int | None:
    """``EvaluationQuorum.improvement`` on the Float32 losses a record would carry."""
    b, a = float(np.float32(before)), float(np.float32(after))
    if not (np.isfinite(b) and np.isfinite(a) and b > 0):
        return None
    return int(min(SCORE_SCALE, max(-1e12, round((b - a) / b * SCORE_SCALE))))


@dataclass
class ContributionCheck:
    window: int
    contribution: str
    author: str
    status: str
    torch_vs_swift: dict[int, int] = field(default_factory=dict)
    """Hamming distance to each validator's valid revealed hash (members and others)."""
    swift_vs_swift: list[int] = field(default_factory=list)
    """Between the quorum's members, pairwise."""
    members: list[int] = field(default_factory=list)
    torch_vs_members: dict[int, int] = field(default_factory=dict)
    """The judged distances: to the quorum's members only."""
    score_ppb: int | None = None
    torch_score_ppb: int | None = None
    own_score_ppb: int | None = None
    torch_own_score_ppb: int | None = None

    def as_json(self) -> dict:
        return {"window": self.window, "contribution": self.contribution, "author": self.author, "status": self.status, "members": self.members,
                "torch_vs_swift": {str(k): v for k, v in self.torch_vs_swift.items()},
                "torch_vs_members": {str(k): v for k, v in self.torch_vs_members.items()}, "swift_vs_swift": self.swift_vs_swift,
                "score_ppb": self.score_ppb, "torch_score_ppb": self.torch_score_ppb,
                "own_score_ppb": self.own_score_ppb, "torch_own_score_ppb": self.torch_own_score_ppb}


class CrossCheck:
    def __init__(self, client: NodeClient, corpus_directory: str) -> None:
        self.client = client
        self.task = Task.load(client.task(), corpus_directory)
        spec = self.task.reply.spec
        self.evaluator = Evaluator(self.task.layout, self.task.corpus, self.task.split, own_contexts=spec.evaluation.own_contexts,
                                   random_contexts=spec.evaluation.random_contexts, probe_contexts=spec.evaluation.probe_contexts,
                                   bits=spec.lsh.bits)
        self._models: dict[int, tuple[np.ndarray, float]] = {}

    def model(self, window: int) -> tuple[np.ndarray, float]:
        """θ_window and the clip bound its contributions' evaluations use (genesis growth × its clip norm)."""
        if window not in self._models:
            spec = self.task.reply.spec
            reply = self.client.window(window)
            if reply.model_hash is None or reply.model_blob is None:
                raise ValueError(f"window {window} has no model on this node yet")
            blob = self.client.blob(reply.model_blob)
            if model_hash(blob) != reply.model_hash:
                raise ValueError(f"the model blob of window {window} does not hash to its model hash")
            _, bound = clip_bounds(reply.clip_norm, spec.training)
            self._models[window] = (decode_model(blob, spec.name, spec.model), bound)
        return self._models[window]

    def window(self, window: int) -> list[ContributionCheck]:
        spec = self.task.reply.spec
        reply = self.client.window(window)
        base, clip = self.model(window + 1)
        step = evaluation_step(spec.evaluation.step, spec.training.averaging, spec.training.max_aggregated, reply.contribution_count)
        checks = []
        for c in reply.contributions:
            check = ContributionCheck(window, c.id.hex(), c.author.hex(), "evaluated")
            # Revealed, unflagged hashes of the genesis width (a broken or hostile validator may
            # reveal any length up to 128 bytes); the judged ones are the quorum's members.
            width = spec.lsh.bits // 8
            hashes = {e.validator: e.sim_hash for e in c.evaluations
                      if e.revealed and not e.flags and e.sim_hash is not None and len(e.sim_hash) == width}
            check.members = sorted(c.outcome.members) if c.outcome is not None else []
            quorum = [v for v in sorted(hashes) if v in check.members]
            check.swift_vs_swift = [numerics.hamming(hashes[a], hashes[b]) for a, b in combinations(quorum, 2)]
            if c.outcome is not None:
                check.score_ppb, check.own_score_ppb = c.outcome.score_ppb, c.outcome.own_score_ppb
            try:
                blob = self.client.blob(c.blob)
                delta = decode_pseudo_gradient(blob, self.task.layout.parameter_count, spec.compression.chunk_size, spec.compression.top_k)
            except (APIError, ValueError) as error:
                check.status = f"blob not evaluated ({error})"
                checks.append(check)
                continue
            if delta.l2_norm() <= 0:
                check.status = "invalid blob (no nonzero value)"
                checks.append(check)
                continue
            beacon = self.client.assignment(c.author, c.base_window).beacon
            claimed = min(c.inner_steps, spec.training.max_inner_steps)
            used = self.task.split.shard(beacon, c.author, c.base_window, claimed * spec.training.batch_size)
            result = self.evaluator.evaluate(base, delta, used=used, seed=c.beacon, trainer=c.author, step=step, clip_norm=clip)
            check.torch_vs_swift = {v: numerics.hamming(result.sim_hash, h) for v, h in sorted(hashes.items())}
            check.torch_vs_members = {v: d for v, d in check.torch_vs_swift.items() if v in check.members}
            check.torch_score_ppb = improvement_ppb(result.loss_before_random, result.loss_after_random)
            check.torch_own_score_ppb = improvement_ppb(result.loss_before_own, result.loss_after_own)
            checks.append(check)
        return checks

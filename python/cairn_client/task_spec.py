"""The genesis training task as ``GET /v1/task`` serves it (Sources/CairnCore/GenesisTask.swift).

`TaskSpec.from_json` reads every field with its Swift type's bounds, and `problems()` applies the
checks genesis applies (GenesisValidation.swift `TrainingTaskSpec.problems`): `cairn submit` refuses
to train on a task a node serves that genesis would refuse, because the values size allocations
(a batch of 0, a shard past 2^24 contexts) — so does this client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .json_fields import InvalidReply, Obj
from .model_blob import ModelSpec

__all__ = [
    "CompressionSpec",
    "CorpusSpec",
    "EvaluationSpec",
    "LSHSpec",
    "TaskSpec",
    "TrainingSpec",
]


@dataclass(frozen=True)
class CorpusSpec:
    """Which text the model trains on, pinned by hash (sha256 = SHA-256(0x0d ‖ corpus))."""

    source: str
    sha256: bytes
    byte_count: int


@dataclass(frozen=True)
class CompressionSpec:
    chunk_size: int
    top_k: int
    copycat_overlap_ppm: int


@dataclass(frozen=True)
class LSHSpec:
    bits: int
    hamming_threshold: int


@dataclass(frozen=True)
class TrainingSpec:
    """How trainers train: the inner loop each window and the outer step (field docs in genesis/README.md)."""

    max_inner_steps: int
    batch_size: int
    learning_rate: float
    learning_rate_floor: float
    warmup_steps: int
    decay_start_window: int
    decay_windows: int
    weight_decay: float
    feedback_decay: float
    outer_learning_rate: float
    averaging: int
    max_aggregated: int
    initial_clip_norm: float
    clip_growth: float
    max_parameter_magnitude: float
    max_contributions_per_window: int
    blob_retention_windows: int


@dataclass(frozen=True)
class EvaluationSpec:
    own_contexts: int
    random_contexts: int
    step: float
    probe_contexts: int
    held_out_contexts: int


@dataclass(frozen=True)
class TaskSpec:
    name: str
    corpus: CorpusSpec
    model: ModelSpec
    compression: CompressionSpec
    lsh: LSHSpec
    training: TrainingSpec
    evaluation: EvaluationSpec

    @property
    def parameter_count(self) -> int:
        return self.model.parameter_count

    @classmethod
    def from_json(cls, document: Any, source: str = "task") -> TaskSpec:
        """Reads a task JSON object, checking every field's type and range; `InvalidReply` names the field."""
        task = Obj(document, "task", source)
        corpus = task.obj("corpus")
        model = task.obj("model")
        compression = task.obj("compression")
        lsh = task.obj("lsh")
        t = task.obj("training")
        e = task.obj("evaluation")
        hidden = model.uints("hidden_units", 32, max_items=16)
        return cls(
            name=task.text("name", 64),
            corpus=CorpusSpec(corpus.text("source", 64), corpus.hex("sha256", 32), corpus.uint("byte_count")),
            model=ModelSpec(
                model.uint("context_bytes", 32), model.uint("embedding_dim", 32), tuple(hidden), model.uint("vocabulary", 32)
            ),
            compression=CompressionSpec(
                compression.uint("chunk_size", 32), compression.uint("top_k", 32), compression.uint("copycat_overlap_ppm", 32)
            ),
            lsh=LSHSpec(lsh.uint("bits", 32), lsh.uint("hamming_threshold", 32)),
            training=TrainingSpec(
                max_inner_steps=t.uint("max_inner_steps", 32),
                batch_size=t.uint("batch_size", 32),
                learning_rate=t.number("learning_rate"),
                learning_rate_floor=t.number("learning_rate_floor"),
                warmup_steps=t.uint("warmup_steps", 32),
                decay_start_window=t.uint("decay_start_window", 64),
                decay_windows=t.uint("decay_windows", 32),
                weight_decay=t.number("weight_decay"),
                feedback_decay=t.number("feedback_decay"),
                outer_learning_rate=t.number("outer_learning_rate"),
                averaging=t.uint("averaging", 8),
                max_aggregated=t.uint("max_aggregated", 32),
                initial_clip_norm=t.number("initial_clip_norm"),
                clip_growth=t.number("clip_growth"),
                max_parameter_magnitude=t.number("max_parameter_magnitude"),
                max_contributions_per_window=t.uint("max_contributions_per_window", 32),
                blob_retention_windows=t.uint("blob_retention_windows", 32),
            ),
            evaluation=EvaluationSpec(
                own_contexts=e.uint("own_contexts", 32),
                random_contexts=e.uint("random_contexts", 32),
                step=e.number("step"),
                probe_contexts=e.uint("probe_contexts", 32),
                held_out_contexts=e.uint("held_out_contexts", 32),
            ),
        )

    def problems(self) -> list[str]:
        """What genesis would refuse in this task (empty when nothing), in genesis' words."""
        problems: list[str] = []
        if not self.name:
            problems.append("task.name must not be empty")
        if self.corpus.byte_count == 0:
            problems.append("task.corpus.byte_count must be > 0")
        m = self.model
        if m.context_bytes == 0 or m.embedding_dim == 0 or not m.hidden_units or 0 in m.hidden_units or m.vocabulary == 0:
            problems.append("task.model dimensions must all be > 0 with at least one hidden layer")
        dimensions = [m.context_bytes, m.embedding_dim, m.vocabulary, *m.hidden_units]
        if any(d > 65_536 for d in dimensions) or len(m.hidden_units) > 16 or m.parameter_count > 1 << 32:
            problems.append(
                "task.model is too large: every dimension ≤ 65536, at most 16 hidden layers, at most 2^32 parameters "
                f"(has {m.parameter_count})"
            )
        c = self.compression
        if c.chunk_size == 0 or c.chunk_size > 65536 or c.top_k == 0 or c.top_k > c.chunk_size:
            problems.append("task.compression needs 0 < top_k ≤ chunk_size ≤ 65536 (indices are uint16)")
        if c.copycat_overlap_ppm == 0 or c.copycat_overlap_ppm > 1_000_000:
            problems.append("task.compression.copycat_overlap_ppm must be 1…1000000")
        lsh = self.lsh
        if lsh.bits == 0 or lsh.bits % 64 != 0 or lsh.bits > 4096 or lsh.hamming_threshold >= lsh.bits:
            problems.append("task.lsh needs bits a positive multiple of 64 up to 4096 and hamming_threshold < bits")
        t = self.training
        if not 1 <= t.max_inner_steps <= 100_000 or not 1 <= t.batch_size <= 4096 or t.max_inner_steps * t.batch_size > 1 << 24:
            problems.append(
                "task.training needs max_inner_steps 1…100000, batch_size 1…4096 "
                "and max_inner_steps × batch_size ≤ 2^24 contexts per shard"
            )
        if (t.decay_start_window > 0 and t.decay_windows == 0) or t.decay_windows > 1_000_000:
            problems.append("task.training.decay_windows must be 1…1000000 when decay_start_window is set")
        if t.averaging > 1:
            problems.append("task.training.averaging must be 0 or 1")
        if not 0 <= t.feedback_decay <= 1:
            problems.append("task.training.feedback_decay must be in [0, 1]")
        if not 0 < t.learning_rate < 1 or not 0 <= t.learning_rate_floor <= t.learning_rate:
            problems.append("task.training needs 0 < learning_rate < 1 and 0 ≤ learning_rate_floor ≤ learning_rate")
        if (
            t.warmup_steps > 1_000_000
            or not 0 <= t.weight_decay < 1
            or not 0 < t.outer_learning_rate <= 4
            or not 1 <= t.max_aggregated <= 1000
        ):
            problems.append(
                "task.training needs warmup_steps ≤ 1000000, 0 ≤ weight_decay < 1, "
                "0 < outer_learning_rate ≤ 4 and max_aggregated 1…1000"
            )
        if not 0 < t.initial_clip_norm <= 1e6 or not 1 <= t.clip_growth <= 16:
            problems.append("task.training needs 0 < initial_clip_norm ≤ 10^6 and 1 ≤ clip_growth ≤ 16")
        if not 1 <= t.max_parameter_magnitude <= 1e30:
            problems.append("task.training.max_parameter_magnitude must be in [1, 10^30]")
        if not 1 <= t.max_contributions_per_window <= 100_000:
            problems.append("task.training.max_contributions_per_window must be 1…100000")
        if not 1 <= t.blob_retention_windows <= 10_000:
            problems.append("task.training.blob_retention_windows must be 1…10000")
        ev = self.evaluation
        if (
            not 1 <= ev.own_contexts <= 65_536
            or not 1 <= ev.random_contexts <= 65_536
            or not 1 <= ev.probe_contexts <= 4096
            or not 1 <= ev.held_out_contexts <= 1_000_000
        ):
            problems.append(
                "task.evaluation needs own_contexts and random_contexts 1…65536, "
                "probe_contexts 1…4096, held_out_contexts 1…1000000"
            )
        if not 0 < ev.step <= 16:
            problems.append("task.evaluation.step must be finite and in (0, 16]")
        return problems

    def check(self, source: str = "task") -> TaskSpec:
        """This task, or `InvalidReply` listing what genesis would refuse in it."""
        problems = self.problems()
        if problems:
            raise InvalidReply("task", "not a valid genesis task: " + "; ".join(problems), source)
        return self

"""The genesis task's byte MLP as a ``torch.nn.Module`` over Cairn's flat parameter layout.

One Float32 vector θ holds every tensor in the order ``ModelLayout.swift`` fixes (the embedding
table [256 × e]; per hidden layer its weight [inputs × units], input-major, and bias; the output
weight [last × 256] and bias), so θ, its gradient, AdamW's moments and the pseudo-gradient Δ all
index the same flat space as the Swift node's. The hidden nonlinearity is the node's rational
tanh (``FastTanh.swift``), computed one Float32 operation at a time so its bits equal the node's;
the matrix products go through PyTorch's BLAS, whose summation order differs from OpenBLAS's —
exactly the kind of difference the LSH output consensus must tolerate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

# Eigen's ptanh_float coefficients, as the Swift node's Float32 literals.
_CLAMP = 7.90531110763549805
_P = (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08,
      1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03)
_Q = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03)


def fast_tanh_values(x: torch.Tensor) -> torch.Tensor:
    """x·P(x²)/Q(x²) on x clamped to ±7.9053, Horner in Float32, each operation rounded once."""
    c = torch.clamp(x, -_CLAMP, _CLAMP)
    x2 = c * c
    p = torch.full_like(c, _P[0])
    for a in _P[1:]:
        p = p * x2
        p = p + a
    q = torch.full_like(c, _Q[0])
    for b in _Q[1:]:
        q = q * x2
        q = q + b
    return (c * p) / q


class _FastTanh(torch.autograd.Function):
    """The node differentiates its tanh as 1 − y² (``ByteMLP.lossAndGradient``); so does this."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[override]
        y = fast_tanh_values(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


@dataclass(frozen=True)
class Slot:
    name: str
    offset: int
    rows: int
    columns: int

    @property
    def count(self) -> int:
        return self.rows * self.columns


@dataclass(frozen=True)
class ModelLayout:
    """Where each tensor lives in θ (``ModelLayout.swift``); refuses what the node refuses."""

    context_bytes: int
    embedding_dim: int
    hidden_units: tuple[int, ...]
    vocabulary: int = 256

    MAX_PARAMETERS = 1 << 26
    MAX_WIDTH = 1 << 14

    def __post_init__(self) -> None:
        widths = [self.context_bytes, self.embedding_dim, self.vocabulary, *self.hidden_units]
        if not self.hidden_units or not all(isinstance(w, int) and 1 <= w <= self.MAX_WIDTH for w in widths):
            raise ValueError(f"task.model: every dimension must be 1…{self.MAX_WIDTH} with at least one hidden layer (got {widths})")
        if self.vocabulary != 256:
            raise ValueError(f"task.model.vocabulary must be 256 for a byte-level model (got {self.vocabulary})")
        if self.parameter_count > self.MAX_PARAMETERS:
            raise ValueError(f"task.model has {self.parameter_count} parameters; at most {self.MAX_PARAMETERS} are allowed")

    @property
    def input_width(self) -> int:
        return self.context_bytes * self.embedding_dim

    @property
    def slots(self) -> list[Slot]:
        out, offset = [], 0

        def add(name: str, rows: int, columns: int) -> None:
            nonlocal offset
            out.append(Slot(name, offset, rows, columns))
            offset += rows * columns

        add("embedding", self.vocabulary, self.embedding_dim)
        width = self.input_width
        for i, units in enumerate(self.hidden_units):
            add(f"hidden{i}.weight", width, units)
            add(f"hidden{i}.bias", 1, units)
            width = units
        add("output.weight", width, self.vocabulary)
        add("output.bias", 1, self.vocabulary)
        return out

    @property
    def parameter_count(self) -> int:
        s = self.slots[-1]
        return s.offset + s.count

    @classmethod
    def from_spec(cls, spec: dict) -> ModelLayout:
        try:
            return cls(int(spec["context_bytes"]), int(spec["embedding_dim"]),
                       tuple(int(u) for u in spec["hidden_units"]), int(spec["vocabulary"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"task.model is not a valid model spec ({error})") from error


class ByteMLP(torch.nn.Module):
    """Logits for the next byte after each context, from one flat parameter vector ``theta``."""

    def __init__(self, layout: ModelLayout, theta: np.ndarray | torch.Tensor) -> None:
        super().__init__()
        self.layout = layout
        values = torch.as_tensor(np.asarray(theta, dtype=np.float32)).clone()
        if values.numel() != layout.parameter_count:
            raise ValueError(f"θ has {values.numel()} values; the layout needs {layout.parameter_count}")
        self.theta = torch.nn.Parameter(values)

    def views(self, theta: torch.Tensor | None = None) -> list[torch.Tensor]:
        t = self.theta if theta is None else theta
        return [t[s.offset:s.offset + s.count].view(s.rows, s.columns) for s in self.layout.slots]

    def forward(self, contexts: torch.Tensor, theta: torch.Tensor | None = None) -> torch.Tensor:
        """``contexts``: [batch × context_bytes] int64 byte values → logits [batch × 256]."""
        views = self.views(theta)
        x = views[0][contexts].reshape(contexts.shape[0], self.layout.input_width)
        for i in range(len(self.layout.hidden_units)):
            weight, bias = views[1 + 2 * i], views[2 + 2 * i]
            x = _FastTanh.apply(torch.addmm(bias, x, weight))
        return torch.addmm(views[-1], x, views[-2])


class Corpus:
    """The task's text and the contexts/targets at positions (position p: text[p : p+c] → text[p+c])."""

    def __init__(self, data: bytes, context_bytes: int) -> None:
        self.bytes = np.frombuffer(data, dtype=np.uint8)
        self.context_bytes = context_bytes
        self._offsets = np.arange(context_bytes, dtype=np.int64)

    def batch(self, positions) -> tuple[torch.Tensor, torch.Tensor]:
        p = np.asarray(positions, dtype=np.int64)
        if p.size and (p.min() < 0 or p.max() + self.context_bytes >= self.bytes.size):
            raise ValueError("a position's context or target lies outside the corpus")
        contexts = self.bytes[p[:, None] + self._offsets[None, :]].astype(np.int64)
        targets = self.bytes[p + self.context_bytes].astype(np.int64)
        return torch.from_numpy(contexts), torch.from_numpy(targets)


def cross_entropy_sum(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Σ over rows of the Float32 per-row cross-entropy, accumulated in Float64 (as the node's
    loss sums its per-row Float32 terms in a Double)."""
    rows = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
    return float(rows.double().sum())


BATCH_CAPACITY = 512


def mean_loss(model: ByteMLP, corpus: Corpus, positions, theta: torch.Tensor | None = None) -> float:
    """Mean next-byte cross-entropy (nats) over ``positions``, in batches of the node's capacity."""
    positions = list(positions)
    if not positions:
        return 0.0
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(positions), BATCH_CAPACITY):
            contexts, targets = corpus.batch(positions[start:start + BATCH_CAPACITY])
            total += cross_entropy_sum(model(contexts, theta), targets)
    return total / len(positions)


def logits(model: ByteMLP, corpus: Corpus, positions, theta: torch.Tensor | None = None) -> np.ndarray:
    """Logits [positions × 256] as a flat Float32 array (row-major, the node's order)."""
    out = []
    with torch.no_grad():
        for start in range(0, len(positions), BATCH_CAPACITY):
            contexts, _ = corpus.batch(positions[start:start + BATCH_CAPACITY])
            out.append(model(contexts, theta).numpy().reshape(-1))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

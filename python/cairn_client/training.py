"""The trainer's inner loop: AdamW over the flat θ and the genesis inner learning-rate schedule,
written in the order of ``AdamW.swift`` and ``InnerSchedule.swift`` so a Python trainer trains as
the Swift one does (only the BLAS summation order differs)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .model import ByteMLP, Corpus


@dataclass(frozen=True)
class InnerSchedule:
    """Linear warm-up over an optimizer's first steps, then the window's rate: constant, or a
    linear decay to ``floor`` over ``decay_windows`` windows from ``decay_start_window`` (D60)."""

    peak: float
    floor: float
    warmup_steps: int
    decay_start_window: int | None = None
    decay_windows: int = 0

    @classmethod
    def from_training_spec(cls, spec: dict) -> InnerSchedule:
        start = int(spec["decay_start_window"])
        return cls(peak=float(np.float32(spec["learning_rate"])), floor=float(np.float32(spec["learning_rate_floor"])),
                   warmup_steps=max(0, int(spec["warmup_steps"])), decay_start_window=start if start > 0 else None,
                   decay_windows=int(spec["decay_windows"]))

    def window_rate(self, window: int) -> np.float32:
        peak, floor = np.float32(self.peak), np.float32(self.floor)
        if self.decay_start_window is None or window < self.decay_start_window:
            return peak
        if self.decay_windows <= 0:
            return floor
        done = min(window - self.decay_start_window, self.decay_windows - 1) + 1
        fraction = np.float32((self.decay_windows - done) / self.decay_windows)
        return np.float32(floor + np.float32((peak - floor) * fraction))

    def rate(self, window: int, optimizer_step: int) -> np.float32:
        base = self.window_rate(window)
        if optimizer_step >= self.warmup_steps:
            return base
        return np.float32(np.float32(base * np.float32(max(0, optimizer_step) + 1)) / np.float32(self.warmup_steps))


class AdamW:
    """m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  θ ← θ − lr·(m̂/(√v̂ + ε) + λ·θ), with β^t kept
    as running Float32 products, each operation rounded once in Float32 (``AdamW.swift``)."""

    beta1 = np.float32(0.9)
    beta2 = np.float32(0.999)
    epsilon = np.float32(1e-8)

    def __init__(self, parameter_count: int, weight_decay: float) -> None:
        self.weight_decay = np.float32(weight_decay)
        self.step = 0
        self.beta1_power = np.float32(1)
        self.beta2_power = np.float32(1)
        self.m = torch.zeros(parameter_count, dtype=torch.float32)
        self.v = torch.zeros(parameter_count, dtype=torch.float32)
        # Scratch reused every step: a fresh multi-megabyte tensor per step costs page faults.
        self._denominator = torch.empty(parameter_count, dtype=torch.float32)
        self._step = torch.empty(parameter_count, dtype=torch.float32)

    @torch.no_grad()
    def update(self, theta: torch.Tensor, gradient: torch.Tensor, rate: np.float32) -> None:
        self.step += 1
        self.beta1_power = np.float32(self.beta1_power * self.beta1)
        self.beta2_power = np.float32(self.beta2_power * self.beta2)
        b1, b2 = float(self.beta1), float(self.beta2)
        one_minus_b1, one_minus_b2 = float(np.float32(1) - self.beta1), float(np.float32(1) - self.beta2)
        c1 = float(np.float32(1) / (np.float32(1) - self.beta1_power))
        c2 = float(np.float32(1) / (np.float32(1) - self.beta2_power))
        # In place, into reused scratch: the same operations as the node's loop, ~3× faster than
        # out-of-place tensors (PyTorch may fuse a multiply-add here: a rounding of 1 ulp, which
        # training does not need to match bit for bit).
        self.m.mul_(b1).add_(gradient, alpha=one_minus_b1)
        self.v.mul_(b2).addcmul_(gradient, gradient, value=one_minus_b2)
        denominator = torch.mul(self.v, c2, out=self._denominator).sqrt_().add_(float(self.epsilon))
        step = torch.mul(self.m, c1, out=self._step).div_(denominator)
        if self.weight_decay:
            step.add_(theta, alpha=float(self.weight_decay))
        theta.sub_(step, alpha=float(rate))


class LocalTraining:
    """One model trained with AdamW on batches of positions; the optimizer state carries over
    between windows (DiLoCo's inner optimizer) and is reset only on request."""

    def __init__(self, model: ByteMLP, corpus: Corpus, weight_decay: float) -> None:
        self.model = model
        self.corpus = corpus
        self.optimizer = AdamW(model.layout.parameter_count, weight_decay)

    def adopt(self, theta: np.ndarray, reset_optimizer: bool = False) -> None:
        with torch.no_grad():
            self.model.theta.copy_(torch.from_numpy(np.ascontiguousarray(theta, dtype=np.float32)))
        if reset_optimizer:
            self.optimizer = AdamW(self.model.layout.parameter_count, float(self.optimizer.weight_decay))

    def rebase(self, old: np.ndarray, new: np.ndarray) -> None:
        """Moves the model in training by ``new − old``, keeping the progress made since ``old`` and
        the optimizer state (the node's ``LocalTraining.rebase``, D67)."""
        shift = torch.from_numpy(np.ascontiguousarray(new, dtype=np.float32) - np.ascontiguousarray(old, dtype=np.float32))
        with torch.no_grad():
            self.model.theta.add_(shift)

    def step(self, positions, rate: np.float32) -> float:
        """One AdamW step on ``positions``; the batch's mean loss before the step."""
        contexts, targets = self.corpus.batch(positions)
        self.model.theta.grad = None
        loss = torch.nn.functional.cross_entropy(self.model(contexts), targets)
        loss.backward()
        self.optimizer.update(self.model.theta.data, self.model.theta.grad, rate)
        return float(loss.detach())

    def parameters(self) -> np.ndarray:
        return self.model.theta.detach().numpy().copy()

"""The integer-only randomness and the exact Float32 arithmetic every Cairn validator reproduces.

Everything here must give the Swift node's bits (Sources/CairnTraining: SplitMix64.swift,
DataSplit.swift, InitialModel.swift, Evaluator.swift's position draws, SimHash.swift,
PseudoGradient.swift's compression). Float32 operations are done one at a time in numpy float32
(each rounded once, never fused), in the order the Swift code gives them; sums that Swift
accumulates in order use ``np.add.accumulate`` (sequential), never ``np.sum`` (pairwise).
``Tests/Interop/vectors.json`` checks each function against the Swift output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .wire import DomainTag, digest

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def training_digest(data: bytes) -> bytes:
    """SHA-256(0x10 ‖ data): the domain of every training seed."""
    return digest(DomainTag.TRAINING, data)


def seed(label: str, first: bytes = b"", second: bytes = b"", number: int = 0) -> bytes:
    """``DataSplit.seed``: SHA-256(0x10 ‖ label ‖ 0 ‖ first ‖ second ‖ number as u64 little-endian)."""
    if not 0 <= number <= MASK64:
        raise ValueError(f"seed number {number} is outside 0…2^64−1")
    return training_digest(label.encode() + b"\x00" + first + second + number.to_bytes(8, "little"))


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def _mix_array(z: np.ndarray) -> np.ndarray:
    """``_mix`` over a uint64 array (numpy's uint64 arithmetic wraps like Swift's &*)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


def _multiply_128(x: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """(high, low) 64-bit halves of x · bound for each uint64 x, exactly, from 32-bit limbs."""
    bh, bl = np.uint64(bound >> 32), np.uint64(bound & 0xFFFFFFFF)
    xh, xl = x >> _S32, x & _M32
    with np.errstate(over="ignore"):
        ll, lh, hl, hh = xl * bl, xl * bh, xh * bl, xh * bh  # each < 2^64
        middle = (ll >> _S32) + (lh & _M32) + (hl & _M32)  # < 3 · 2^32
        low = (middle << _S32) | (ll & _M32)
        high = hh + (lh >> _S32) + (hl >> _S32) + (middle >> _S32)
    return high, low


class SplitMix64:
    """SplitMix64 (Steele et al. 2014) exactly as ``SplitMix64.swift``: the n-th output (from 1)
    is mix(seed + n·γ), so a block of draws is computed at once by ``next_array``."""

    def __init__(self, state: int) -> None:
        if not 0 <= state <= MASK64:
            raise ValueError(f"SplitMix64 seed {state} is outside 0…2^64−1")
        self.state = state

    @classmethod
    def from_digest(cls, digest: bytes) -> SplitMix64:
        """Seeded by the first 8 bytes of a digest, little-endian."""
        if len(digest) < 8:
            raise ValueError("a SplitMix64 digest seed needs at least 8 bytes")
        return cls(int.from_bytes(digest[:8], "little"))

    def next(self) -> int:
        self.state = (self.state + GAMMA) & MASK64
        return _mix(self.state)

    def next_array(self, count: int) -> np.ndarray:
        """The next ``count`` outputs as uint64, advancing the state past them."""
        if count < 0:
            raise ValueError("count must be non-negative")
        steps = np.arange(1, count + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            states = np.uint64(self.state) + steps * np.uint64(GAMMA)
        self.state = (self.state + count * GAMMA) & MASK64
        return _mix_array(states)

    def below(self, bound: int) -> int:
        """Uniform in 0..<bound by Lemire's multiply-and-reject (the Swift rule, draw for draw)."""
        if not 0 < bound <= MASK64:
            raise ValueError(f"bound {bound} is outside 1…2^64−1")
        product = self.next() * bound
        if (product & MASK64) < bound:
            threshold = ((1 << 64) - bound) % bound
            while (product & MASK64) < threshold:
                product = self.next() * bound
        return product >> 64

    def below_array(self, bound: int, count: int) -> list[int]:
        """``count`` successive ``below(bound)`` draws. The 64×64→128-bit products are formed in
        numpy from 32-bit halves; a rejection (probability below bound/2^64 per draw) replays the
        rest one draw at a time from the first one, so the stream is exactly the scalar one's."""
        if not 0 < bound <= MASK64:
            raise ValueError(f"bound {bound} is outside 1…2^64−1")
        if count <= 0:
            return []
        start = self.state
        raw = self.next_array(count)
        high, low = _multiply_128(raw, bound)
        threshold = ((1 << 64) - bound) % bound
        rejected = np.nonzero(low < np.uint64(threshold))[0] if threshold else np.zeros(0, dtype=np.int64)
        if rejected.size == 0:
            return high.tolist()
        i = int(rejected[0])
        self.state = (start + i * GAMMA) & MASK64
        return high[:i].tolist() + [self.below(bound) for _ in range(count - i)]

    def symmetric_unit(self) -> np.float32:
        """Uniform in [-1, 1) on a grid of 2^-23 (exact in Float32)."""
        return np.float32(float(self.next() >> 40) * 2.0**-23 - 1.0)

    def approximate_normal(self) -> np.float32:
        a, b, c, d = (self.symmetric_unit() for _ in range(4))
        return np.float32(np.float32(np.float32(a + b) + np.float32(c + d)) * np.float32(0.8660254))


def symmetric_units(raw: np.ndarray) -> np.ndarray:
    """``symmetricUnit`` of each uint64 draw: exact, since (x >> 40)·2^-23 − 1 fits Float32."""
    return ((raw >> np.uint64(40)).astype(np.float64) * 2.0**-23 - 1.0).astype(np.float32)


@dataclass(frozen=True)
class DataSplit:
    """How the corpus is cut into training contexts and the held-out slice (``DataSplit.swift``)."""

    text_count: int
    context_bytes: int

    def __post_init__(self) -> None:
        if self.context_bytes <= 0 or self.text_count <= 40 * (self.context_bytes + 1):
            raise ValueError(f"a corpus of {self.text_count} bytes is too small for contexts of {self.context_bytes} bytes")

    @property
    def held_out_start(self) -> int:
        return self.text_count - self.text_count // 20

    @property
    def training_count(self) -> int:
        return self.held_out_start - self.context_bytes

    @property
    def held_out_count(self) -> int:
        return self.text_count - self.context_bytes - self.held_out_start

    def held_out_positions(self, count: int) -> list[int]:
        n = min(max(count, 1), self.held_out_count)
        return [self.held_out_start + i * self.held_out_count // n for i in range(n)]

    def training_positions(self, seed_digest: bytes, count: int) -> list[int]:
        return SplitMix64.from_digest(seed_digest).below_array(self.training_count, max(0, count))

    def shard(self, beacon: bytes, trainer: bytes, window: int, count: int) -> list[int]:
        """A trainer's data for a window: seeded by (β_k, trainer key, k), unchoosable by it."""
        return self.training_positions(seed("shard", beacon, trainer, window), count)


def random_positions(split: DataSplit, evaluation_seed: bytes, count: int) -> list[int]:
    return split.training_positions(seed("evaluation-random", evaluation_seed), count)


def probe_positions(split: DataSplit, evaluation_seed: bytes, count: int) -> list[int]:
    return split.training_positions(seed("evaluation-probe", evaluation_seed), count)


def own_positions(used: Sequence[int], evaluation_seed: bytes, trainer: bytes, count: int) -> list[int]:
    """The own-data sample: ``count`` draws with replacement from the claimed steps' contexts."""
    if not used:
        return []
    rng = SplitMix64.from_digest(seed("evaluation-own", evaluation_seed, trainer))
    return [used[i] for i in rng.below_array(len(used), count)]


def hyperplane_seed(evaluation_seed: bytes) -> int:
    return SplitMix64.from_digest(seed("evaluation-hyperplanes", evaluation_seed)).next()


def initial_parameters(slots: Sequence[tuple[str, int, int, int]], input_width: int, genesis_seed: bytes) -> np.ndarray:
    """``InitialModel.parameters``: embedding ≈ N(0, 1) (Irwin–Hall of 4), each layer's weight then
    bias uniform in ±1/√fan_in, drawn in flat order from one stream. ``slots`` are (name, offset,
    rows, columns) in layout order."""
    total = sum(rows * columns for _, _, rows, columns in slots)
    rng = SplitMix64.from_digest(seed("initial-model", genesis_seed))
    theta = np.zeros(total, dtype=np.float32)
    _, offset, rows, columns = slots[0]
    count = rows * columns
    u = symmetric_units(rng.next_array(4 * count)).reshape(count, 4)
    s = (u[:, 0] + u[:, 1]) + (u[:, 2] + u[:, 3])  # float32 adds, the Swift grouping
    theta[offset:offset + count] = s * np.float32(0.8660254)
    fan_in = input_width
    for i in range(1, len(slots), 2):
        (_, w_off, w_rows, w_cols), (_, b_off, b_rows, b_cols) = slots[i], slots[i + 1]
        bound = np.float32(1) / np.sqrt(np.float32(fan_in))  # both correctly rounded in IEEE 754
        n_w, n_b = w_rows * w_cols, b_rows * b_cols
        theta[w_off:w_off + n_w] = symmetric_units(rng.next_array(n_w)) * bound
        theta[b_off:b_off + n_b] = symmetric_units(rng.next_array(n_b)) * bound
        fan_in = w_cols
    return theta


_SIMHASH_SLICE = 16


def sim_hash(vector: np.ndarray, bits: int, hyperplanes: int) -> bytes:
    """``SimHash.hash`` then ``SimHash.bytes``: bit j is 1 when the projection on Rademacher plane j
    is ≥ 0, summed in Swift's fixed order (coordinate i into Float32 accumulator i mod 8, each
    64-block's signs from one draw, lanes combined ((0+1)+(2+3))+((4+5)+(6+7)), the tail after)."""
    if bits <= 0 or bits % 64:
        raise ValueError(f"SimHash width {bits} must be a positive multiple of 64")
    x = np.ascontiguousarray(vector, dtype=np.float32)
    n = x.size
    blocks, tail = divmod(n, 64)
    per_plane = blocks + (1 if tail else 0)
    rng = SplitMix64(hyperplanes)
    shifts = np.arange(64, dtype=np.uint64)
    words = np.zeros(bits // 64, dtype=np.uint64)
    body = x[: blocks * 64].reshape(blocks, 64)
    rest = x[blocks * 64:]
    # Planes a slice at a time, so memory stays ~9 bytes × slice × vector length whatever the width.
    for first in range(0, bits, _SIMHASH_SLICE):
        planes = min(_SIMHASH_SLICE, bits - first)
        draws = rng.next_array(planes * per_plane).reshape(planes, per_plane)
        signs = ((draws[:, :, None] >> shifts[None, None, :]) & np.uint64(1)).astype(bool)  # [plane, draw, bit]
        if blocks:
            signed = np.where(signs[:, :blocks, :], -body[None, :, :], body[None, :, :]).astype(np.float32)
            lanes = signed.reshape(planes, blocks * 8, 8)  # (block, group) in order, lane = i mod 8
            acc = np.add.accumulate(lanes, axis=1, dtype=np.float32)[:, -1, :]
        else:
            acc = np.zeros((planes, 8), dtype=np.float32)
        total = ((acc[:, 0] + acc[:, 1]) + (acc[:, 2] + acc[:, 3])) + ((acc[:, 4] + acc[:, 5]) + (acc[:, 6] + acc[:, 7]))
        if tail:
            signed_tail = np.where(signs[:, blocks, :tail], -rest[None, :], rest[None, :]).astype(np.float32)
            for i in range(tail):
                total = (total + signed_tail[:, i]).astype(np.float32)
        for plane in np.nonzero(total >= 0)[0]:
            j = first + int(plane)
            words[j // 64] |= np.uint64(1) << np.uint64(j % 64)
    return b"".join(int(w).to_bytes(8, "big") for w in words)


def hamming(a: bytes, b: bytes) -> int:
    if len(a) != len(b):
        raise ValueError(f"hashes of {len(a)} and {len(b)} bytes cannot be compared")
    return sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True))


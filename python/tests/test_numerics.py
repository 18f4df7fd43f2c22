"""The vectorised numerics against scalar transcriptions of the Swift code: SimHash for any
length (empty, tails, widths that are not a multiple of the plane slice) and Lemire draws with
any bound, rejections included."""

from __future__ import annotations

import numpy as np
import pytest

from cairn_client import numerics


def sim_hash_scalar(x: np.ndarray, bits: int, seed: int) -> bytes:
    """SimHash.swift line by line: one draw per 64 coordinates, coordinate i into Float32 lane
    i mod 8, lanes ((0+1)+(2+3))+((4+5)+(6+7)), then the tail in order from one more draw."""
    rng = numerics.SplitMix64(seed)
    words = [0] * (bits // 64)
    full = x.size // 64 * 64
    for plane in range(bits):
        acc = [np.float32(0)] * 8
        i = 0
        while i < full:
            signs = rng.next()
            for group in range(8):
                for lane in range(8):
                    value = x[i + 8 * group + lane]
                    acc[lane] = np.float32(acc[lane] + (-value if (signs >> (8 * group + lane)) & 1 else value))
            i += 64
        total = np.float32(np.float32(np.float32(acc[0] + acc[1]) + np.float32(acc[2] + acc[3]))
                           + np.float32(np.float32(acc[4] + acc[5]) + np.float32(acc[6] + acc[7])))
        if i < x.size:
            signs, bit = rng.next(), 1
            while i < x.size:
                total = np.float32(total + (-x[i] if signs & bit else x[i]))
                bit <<= 1
                i += 1
        if total >= 0:
            words[plane // 64] |= 1 << (plane % 64)
    return b"".join(w.to_bytes(8, "big") for w in words)


@pytest.mark.parametrize("length", [0, 1, 63, 64, 65, 130, 257])
@pytest.mark.parametrize("bits", [64, 192])
def test_sim_hash_matches_the_scalar_rule(length: int, bits: int) -> None:
    rng = np.random.default_rng(length * 1000 + bits)
    x = (rng.standard_normal(length) * 1e-3).astype(np.float32)
    seed = int(rng.integers(0, 2**63)) * 2 + 1
    assert numerics.sim_hash(x, bits, seed) == sim_hash_scalar(x, bits, seed)


def test_sim_hash_refuses_a_width_that_is_not_whole_words() -> None:
    with pytest.raises(ValueError):
        numerics.sim_hash(np.zeros(4, dtype=np.float32), 100, 1)


@pytest.mark.parametrize("bound", [1, 2, 3, 1000, (1 << 32) + 7, (1 << 63) + 12345, (1 << 64) - 1])
def test_block_draws_equal_one_by_one_draws(bound: int) -> None:
    one = numerics.SplitMix64(bound)
    expected = [one.below(bound) for _ in range(300)]
    block = numerics.SplitMix64(bound)
    assert block.below_array(bound, 300) == expected
    assert block.state == one.state
    assert all(0 <= v < bound for v in expected)


def test_bounds_are_refused() -> None:
    rng = numerics.SplitMix64(1)
    for bad in (0, 1 << 64):
        with pytest.raises(ValueError):
            rng.below(bad)
        with pytest.raises(ValueError):
            rng.below_array(bad, 3)
    assert rng.below_array(5, 0) == []

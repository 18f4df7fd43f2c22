"""Compressed pseudo-gradients and their blob (Sources/CairnTraining/PseudoGradient.swift,
PseudoGradientBlob.swift).

A pseudo-gradient Δ = θ_k − θ_local is cut into chunks of `chunk_size` parameters; of each chunk the
`top_k` largest magnitudes are kept as int8 values with one float32 scale and uint16 indices within
the chunk. The blob, version 1, all integers little-endian::

    magic "CPGD" · version u16 = 1 · reserved u16 = 0
    parameter_count u64 · chunk_size u32 · top_k u32 · chunk_count u32
    per chunk: count u16 · scale f32 · count × index u16 · count × value i8

Only canonical blobs decode (so equal Δs have equal bytes): sizes matching the task, at most
min(top_k, chunk length) entries, indices strictly increasing inside the chunk, values in ±1…±127
with at least one ±127, a finite positive scale whose 127 multiple is finite (exactly +0 in a chunk
without entries), no trailing bytes. `decode` refuses everything the node refuses, with the node's
field name and byte offset, checking in the node's order so the first problem reported is the same.

Dequantisation is one float32 product per entry, float32(q) × scale, and the L2 norm is accumulated
in float64 in index order: the same bits as every validator.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .blob_io import BlobError, BlobReader, BlobWriter
from .wire import round_f32

__all__ = [
    "HEADER_BYTES",
    "MAGIC",
    "MAX_CHUNK_SIZE",
    "VERSION",
    "Chunk",
    "PseudoGradient",
    "check_compression",
    "chunk_count",
    "compress",
    "compress_with_feedback",
    "decode",
    "encode",
    "max_blob_bytes",
]

MAGIC = b"CPGD"
VERSION = 1
HEADER_BYTES = 4 + 2 + 2 + 8 + 4 + 4 + 4
MAX_CHUNK_SIZE = 65536
"""Indices are uint16, so a chunk holds at most 2^16 parameters (genesis enforces it)."""
MAX_PARAMETER_COUNT = 1 << 32
"""Genesis' bound on a model's parameters."""

_F32_127 = np.float32(127)


def _f32_bits(value: float) -> int:
    return int.from_bytes(struct.pack("<f", value), "little")


def _f32_times_127_is_finite(scale: float) -> bool:
    # The float32 product, as the node computes `127 * scale`: the exact product of a 7-bit and a
    # 24-bit significand fits a double, so rounding it once to float32 is the float32 product.
    try:
        struct.pack("<f", 127.0 * scale)
    except OverflowError:
        return False
    return math.isfinite(127.0 * scale)


def check_compression(parameter_count: int, chunk_size: int, top_k: int) -> None:
    """Refuses (ValueError) task parameters genesis would refuse: they size every allocation here."""
    for name, value in (("parameter_count", parameter_count), ("chunk_size", chunk_size), ("top_k", top_k)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, got {type(value).__name__}")
    if not 1 <= parameter_count <= MAX_PARAMETER_COUNT:
        raise ValueError(f"parameter_count is {parameter_count}; a genesis model has 1…2^32 parameters")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE or not 1 <= top_k <= chunk_size:
        raise ValueError(
            f"chunk_size {chunk_size} and top_k {top_k}: genesis needs 0 < top_k ≤ chunk_size ≤ 65536 (indices are uint16)"
        )


def chunk_count(parameter_count: int, chunk_size: int) -> int:
    return (parameter_count + chunk_size - 1) // chunk_size


def max_blob_bytes(parameter_count: int, chunk_size: int, top_k: int) -> int:
    """Largest blob a valid contribution can have for this model and compression."""
    return HEADER_BYTES + chunk_count(parameter_count, chunk_size) * (2 + 4 + 3 * top_k)


@dataclass(frozen=True, eq=False)
class Chunk:
    """One chunk's kept entries: `scale` (a float32 value), uint16 `indices` within the chunk and
    int8 `values`; entry e stands for float32(values[e]) × scale at chunk index indices[e]."""

    scale: float
    indices: npt.NDArray[np.uint16]
    values: npt.NDArray[np.int8]

    def __post_init__(self) -> None:
        if not isinstance(self.scale, (int, float, np.floating)) or isinstance(self.scale, bool):
            raise ValueError(f"chunk scale must be a float, got {type(self.scale).__name__}")
        scale = float(self.scale)
        # Non-finite scales are representable (and refused by `encode`'s validation); a finite one
        # must be a float32 exactly, or the blob would silently hold another value.
        if math.isfinite(scale) and round_f32(scale) != scale:
            raise ValueError(f"chunk scale {scale!r} is not a float32 value (round with wire.round_f32)")
        object.__setattr__(self, "scale", scale)
        indices = _integer_array(self.indices, np.uint16, 0, 0xFFFF, "chunk indices")
        values = _integer_array(self.values, np.int8, -128, 127, "chunk values")
        if indices.shape != values.shape:
            raise ValueError(f"a chunk has {indices.size} indices but {values.size} values")
        if indices.size > 0xFFFF:
            raise ValueError(f"a chunk holds at most 65535 entries (u16 count), got {indices.size}")
        object.__setattr__(self, "indices", indices)
        object.__setattr__(self, "values", values)

    @property
    def count(self) -> int:
        return int(self.indices.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Chunk):
            return NotImplemented
        # Scales compare by bit pattern: +0 and −0 differ on the wire.
        return (
            _f32_bits(self.scale) == _f32_bits(other.scale)
            and np.array_equal(self.indices, other.indices)
            and np.array_equal(self.values, other.values)
        )

    __hash__ = None  # type: ignore[assignment]


def _integer_array(values: object, dtype: type, low: int, high: int, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{what} must be integers, got {array.dtype}")
    if array.size and (int(array.min()) < low or int(array.max()) > high):
        raise ValueError(f"{what} must be in {low}…{high}")
    result: np.ndarray = np.array(array, dtype=dtype, copy=True)
    result.setflags(write=False)
    return result


@dataclass(frozen=True, eq=False)
class PseudoGradient:
    """A compressed Δ over `parameter_count` parameters in chunks of `chunk_size`."""

    parameter_count: int
    chunk_size: int
    chunks: tuple[Chunk, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.parameter_count, int) or not isinstance(self.chunk_size, int):
            raise ValueError("parameter_count and chunk_size must be integers")
        if not 1 <= self.parameter_count <= MAX_PARAMETER_COUNT or not 1 <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError(f"parameter_count {self.parameter_count} must be 1…2^32 and chunk_size {self.chunk_size} 1…65536")
        chunks = tuple(self.chunks)
        if not all(isinstance(chunk, Chunk) for chunk in chunks):
            raise ValueError("chunks must be Chunk values")
        expected = chunk_count(self.parameter_count, self.chunk_size)
        if len(chunks) != expected:
            raise ValueError(
                f"{len(chunks)} chunks; {self.parameter_count} parameters in chunks of {self.chunk_size} need {expected}"
            )
        object.__setattr__(self, "chunks", chunks)

    def chunk_length(self, c: int) -> int:
        """Parameters in chunk `c` (the last chunk may be short)."""
        return min(self.chunk_size, self.parameter_count - c * self.chunk_size)

    @property
    def entry_count(self) -> int:
        return sum(chunk.count for chunk in self.chunks)

    def entries(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Every kept entry as (flat index, dequantised float32 value), in increasing index order
        (for a canonical Δ). Dequantisation is one correctly rounded float32 product per entry."""
        flat: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for c, chunk in enumerate(self.chunks):
            if chunk.count == 0:
                continue
            flat.append(chunk.indices.astype(np.int64) + c * self.chunk_size)
            values.append(chunk.values.astype(np.float32) * np.float32(chunk.scale))
        if not flat:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return np.concatenate(flat), np.concatenate(values)

    def flat_indices(self) -> npt.NDArray[np.int64]:
        """Sorted flat indices of the kept entries (what the copycat check compares)."""
        return self.entries()[0]

    def dense(self) -> npt.NDArray[np.float32]:
        """The dense float32 Δ this represents (zeros where nothing was kept)."""
        out = np.zeros(self.parameter_count, dtype=np.float32)
        flat, values = self.entries()
        out[flat] = values
        return out

    def l2_norm(self) -> float:
        """L2 norm of the dequantised Δ, accumulated in float64 in index order then square-rooted,
        so it has the node's bits (a pairwise sum such as `np.sum` would not)."""
        _, values = self.entries()
        if values.size == 0:
            return 0.0
        squares = np.square(values.astype(np.float64))
        # add.accumulate is a strictly sequential running sum, unlike add.reduce.
        return math.sqrt(float(np.add.accumulate(squares)[-1]))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PseudoGradient):
            return NotImplemented
        return (
            self.parameter_count == other.parameter_count and self.chunk_size == other.chunk_size and self.chunks == other.chunks
        )

    __hash__ = None  # type: ignore[assignment]


# --------------------------------------------------------------------------------------------
# Blob


def encode(gradient: PseudoGradient, top_k: int, *, validate: bool = True) -> bytes:
    """The blob of `gradient` for genesis' `top_k`.

    With `validate` (the default) the blob is decoded again and a `BlobError` raised if it is not
    canonical: a blob the network would refuse is caught before it is uploaded.
    """
    if not isinstance(gradient, PseudoGradient):
        raise ValueError("encode needs a PseudoGradient")
    if not isinstance(top_k, int) or not 0 <= top_k <= 0xFFFF_FFFF:
        raise ValueError(f"top_k {top_k!r} must be a u32")
    w = BlobWriter()
    w.header(MAGIC, VERSION)
    w.u64(gradient.parameter_count)
    w.u32(gradient.chunk_size)
    w.u32(top_k)
    w.u32(len(gradient.chunks))
    for chunk in gradient.chunks:
        w.u16(chunk.count)
        w.f32(chunk.scale)
        w.raw(chunk.indices.astype("<u2").tobytes())
        w.raw(chunk.values.astype("i1").tobytes())
    blob = w.getvalue()
    if validate:
        decode(blob, gradient.parameter_count, gradient.chunk_size, top_k)
    return blob


def decode(data: bytes, parameter_count: int, chunk_size: int, top_k: int) -> PseudoGradient:
    """Decodes and validates a blob for a model of `parameter_count` parameters and genesis'
    compression (`chunk_size`, `top_k`); `BlobError` for anything the node refuses."""
    check_compression(parameter_count, chunk_size, top_k)
    data = bytes(data)
    limit = max_blob_bytes(parameter_count, chunk_size, top_k)
    if len(data) > limit:
        raise BlobError("blob", 0, f"{len(data)} bytes exceeds the {limit}-byte maximum for this model and compression")
    r = BlobReader(data)
    r.header(MAGIC, VERSION, "pseudo-gradient")
    count_at = r.offset
    count = r.u64("parameter_count")
    if count != parameter_count:
        raise BlobError("parameter_count", count_at, f"{count} does not match the model's {parameter_count} parameters")
    size_at = r.offset
    size = r.u32("chunk_size")
    if size != chunk_size:
        raise BlobError("chunk_size", size_at, f"{size} differs from genesis task.compression.chunk_size {chunk_size}")
    k_at = r.offset
    k = r.u32("top_k")
    if k != top_k:
        raise BlobError("top_k", k_at, f"{k} differs from genesis task.compression.top_k {top_k}")
    chunks_at = r.offset
    found_chunks = r.u32("chunk_count")
    expected_chunks = chunk_count(parameter_count, chunk_size)
    if found_chunks != expected_chunks:
        raise BlobError("chunk_count", chunks_at, f"{found_chunks} chunks; the model needs {expected_chunks}")
    chunks = [_decode_chunk(r, c, min(chunk_size, parameter_count - c * chunk_size), top_k) for c in range(expected_chunks)]
    if r.remaining != 0:
        raise BlobError("blob", r.offset, f"{r.remaining} bytes trail the last chunk")
    return PseudoGradient(parameter_count, chunk_size, tuple(chunks))


def _decode_chunk(r: BlobReader, c: int, length: int, top_k: int) -> Chunk:
    """One chunk, checked in the node's order: count, scale, each index, each value, the ±127 rule."""
    entries_at = r.offset
    entries = r.u16(f"chunk[{c}].count")
    allowed = min(top_k, length)
    if entries > allowed:
        raise BlobError(f"chunk[{c}].count", entries_at, f"{entries} entries; at most {allowed} allowed")
    scale_at = r.offset
    scale_bits = r.u32(f"chunk[{c}].scale")
    scale = float(struct.unpack("<f", scale_bits.to_bytes(4, "little"))[0])
    if entries == 0:
        if scale_bits != 0:
            raise BlobError(f"chunk[{c}].scale", scale_at, "must be +0 in a chunk without entries")
    elif not (math.isfinite(scale) and scale > 0 and _f32_times_127_is_finite(scale)):
        raise BlobError(f"chunk[{c}].scale", scale_at, f"{scale} is not a finite positive scale")

    # Indices: the first failing entry is the one the node's loop would stop at (range first, then
    # order against the previous, all earlier ones having passed); only then truncation.
    start = r.offset
    whole = min(entries, r.remaining // 2)
    indices = np.frombuffer(r.data, dtype="<u2", count=whole, offset=start)
    bad = indices >= length
    if whole > 1:
        bad[1:] |= indices[1:] <= indices[:-1]
    if bad.any():
        e = int(np.argmax(bad))
        index = int(indices[e])
        if index >= length:
            problem = f"{index} is outside the chunk (length {length})"
        else:
            last = int(indices[e - 1])
            problem = f"duplicate index {index}" if index == last else f"{index} after {last}: indices must increase"
        raise BlobError(f"chunk[{c}].index[{e}]", start + 2 * e, problem)
    if whole < entries:
        r.offset = start + 2 * whole
        raise r.truncated(2, f"chunk[{c}].index[{whole}]")
    r.offset = start + 2 * entries

    start = r.offset
    whole = min(entries, r.remaining)
    values = np.frombuffer(r.data, dtype="i1", count=whole, offset=start)
    bad = (values == 0) | (values == -128)
    if bad.any():
        e = int(np.argmax(bad))
        raise BlobError(f"chunk[{c}].value[{e}]", start + e, f"{int(values[e])} is not allowed (values are ±1…±127)")
    if whole < entries:
        r.offset = start + whole
        raise r.truncated(1, f"chunk[{c}].value[{whole}]")
    r.offset = start + entries
    if entries > 0 and not np.any((values == 127) | (values == -127)):
        raise BlobError(
            f"chunk[{c}].value", entries_at, "no value is ±127: the scale must map the chunk's largest magnitude to 127"
        )
    return Chunk(scale, indices.astype(np.uint16), values.astype(np.int8))


# --------------------------------------------------------------------------------------------
# Compression (what a trainer does before encoding)


def _float32_vector(values: object, what: str) -> npt.NDArray[np.float32]:
    array = np.asarray(values)
    if array.dtype != np.float32 or array.ndim != 1:
        raise ValueError(f"{what} must be a one-dimensional float32 array (np.asarray(x, dtype=np.float32))")
    return array


def compress(delta: npt.ArrayLike, chunk_size: int, top_k: int) -> PseudoGradient:
    """Compresses a dense float32 Δ as the node's `PseudoGradient.compress` does, bit for bit.

    Per chunk: the `top_k` largest |value| (ties: lower index first), zeros dropped; scale =
    largest magnitude / 127 in float32; each value rounded to nearest even of value / scale
    (float32 division), clamped to ±127; entries that round to 0 dropped.
    """
    d = _float32_vector(delta, "delta")
    check_compression(int(d.size), chunk_size, top_k)
    if not np.all(np.isfinite(d)):
        raise ValueError(
            f"delta has a non-finite value at index {int(np.argmin(np.isfinite(d)))}; check training before compressing"
        )
    chunks: list[Chunk] = []
    empty = Chunk(0.0, np.zeros(0, dtype=np.uint16), np.zeros(0, dtype=np.int8))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for start in range(0, d.size, chunk_size):
            part = d[start : start + chunk_size]
            magnitude = np.abs(part)
            keep = min(top_k, part.size)
            # Stable sort of −|x|: magnitude descending, ties in index order (−0.0 ties 0.0).
            order = np.argsort(-magnitude, kind="stable")[:keep]
            selected = np.sort(order[magnitude[order] != 0])
            if selected.size == 0:
                chunks.append(empty)
                continue
            maximum = magnitude[selected].max()
            scale = np.float32(maximum) / _F32_127
            quantised = np.clip(np.rint(part[selected] / scale), -127, 127)
            nonzero = quantised != 0
            if not nonzero.any():
                chunks.append(empty)
                continue
            chunks.append(Chunk(float(scale), selected[nonzero].astype(np.uint16), quantised[nonzero].astype(np.int8)))
    return PseudoGradient(int(d.size), chunk_size, tuple(chunks))


def compress_with_feedback(
    delta: npt.ArrayLike, residual: npt.ArrayLike, chunk_size: int, top_k: int, decay: float
) -> tuple[PseudoGradient, npt.NDArray[np.float32]]:
    """Error feedback (the node's `ErrorFeedback.compress`): compresses Δ + β·e with β = float32(decay)
    and returns it with the new residual e' = (Δ + β·e) − decompress(·), in float32 throughout."""
    d = _float32_vector(delta, "delta")
    e = _float32_vector(residual, "residual")
    if d.shape != e.shape:
        raise ValueError(f"delta has {d.size} values but the residual {e.size}")
    beta = np.float32(decay)
    # Two roundings (product, then sum), as the node computes it: no fused multiply-add.
    corrected = d + beta * e
    gradient = compress(corrected, chunk_size, top_k)
    flat, values = gradient.entries()
    new_residual = corrected.copy()
    new_residual[flat] = corrected[flat] - values
    return gradient, new_residual

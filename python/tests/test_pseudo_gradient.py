"""Pseudo-gradient blobs: round trips, compression bit for bit, dequantisation and the L2 norm,
and every refusal of the decoder with the node's field name and byte offset."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from conftest import EMPTY_CHUNK, f32_bits, pg_chunk, pg_header

from cairn_client.blobs import (
    BlobError,
    Chunk,
    PseudoGradient,
    blob_id,
    compress,
    compress_with_feedback,
    decode,
    encode,
    max_blob_bytes,
)
from cairn_client.wire import DomainTag, digest

# 10 parameters in chunks of 4 (lengths 4, 4, 2), top 2: the maximum blob is 28 + 3 × 12 = 64 bytes.
P, C, K = 10, 4, 2
H = pg_header(P, C, K, 3)
C0 = pg_chunk([1, 3], [-127, 127], scale=0.5)
VALID = H + C0 + EMPTY_CHUNK + EMPTY_CHUNK


def _chunk(scale: float, indices: list[int], values: list[int]) -> Chunk:
    return Chunk(scale, np.array(indices, dtype=np.uint16), np.array(values, dtype=np.int8))


def _empty() -> Chunk:
    return _chunk(0.0, [], [])


def test_valid_blob_decodes_and_re_encodes() -> None:
    assert len(VALID) == 52 and max_blob_bytes(P, C, K) == 64
    pg = decode(VALID, P, C, K)
    assert pg == PseudoGradient(P, C, (_chunk(0.5, [1, 3], [-127, 127]), _empty(), _empty()))
    assert encode(pg, K) == VALID
    assert blob_id(VALID) == digest(DomainTag.BLOB, VALID)


def test_dense_and_norm() -> None:
    pg = decode(VALID, P, C, K)
    dense = pg.dense()
    assert dense.dtype == np.float32
    assert dense.tolist() == [0, -63.5, 0, 63.5, 0, 0, 0, 0, 0, 0]
    assert pg.l2_norm() == math.sqrt(2 * 63.5**2)
    assert pg.flat_indices().tolist() == [1, 3]
    assert pg.entry_count == 2


def test_dequantisation_is_one_float32_product() -> None:
    scale = struct.unpack("<f", struct.pack("<f", 0.1))[0]  # not exact in binary: rounding matters
    pg = PseudoGradient(4, 4, (_chunk(scale, [0, 1, 2], [127, -3, 55]),))
    expected = [np.float32(q) * np.float32(scale) for q in (127, -3, 55)]
    assert pg.dense()[:3].tolist() == [float(v) for v in expected]


def test_l2_norm_is_a_sequential_float64_sum() -> None:
    rng = np.random.default_rng(3)
    pg = compress(rng.standard_normal(300_000).astype(np.float32) * np.float32(1e-3), 4096, 4096)
    _, values = pg.entries()
    total = 0.0
    for v in values.tolist():
        total += float(v) * float(v)
    assert struct.pack("<d", pg.l2_norm()) == struct.pack("<d", math.sqrt(total))


def test_compress_keeps_top_k_ties_to_lower_index() -> None:
    delta = np.array([0.5, -1.0, 0.25, 1.0, 0, 0, 0, 0, 3, 0], dtype=np.float32)
    pg = compress(delta, 4, 2)
    scale = float(np.float32(1.0) / np.float32(127))
    assert pg.chunks[0] == _chunk(scale, [1, 3], [-127, 127])
    assert pg.chunks[1] == _empty()
    assert pg.chunks[2] == _chunk(float(np.float32(3.0) / np.float32(127)), [0], [127])
    assert decode(encode(pg, 2), 10, 4, 2) == pg


def test_compress_rounds_half_to_even_and_drops_zeros() -> None:
    pg = compress(np.array([127.0, 2.5, 1.5, -0.5], dtype=np.float32), 4, 4)
    assert pg.chunks[0] == _chunk(1.0, [0, 1, 2], [127, 2, 2])


def test_compress_refuses_non_finite_and_non_float32() -> None:
    with pytest.raises(ValueError, match="non-finite value at index 1"):
        compress(np.array([1.0, np.nan], dtype=np.float32), 2, 1)
    with pytest.raises(ValueError, match="float32"):
        compress(np.array([1.0, 2.0]), 2, 1)
    with pytest.raises(ValueError, match="top_k"):
        compress(np.array([1.0, 2.0], dtype=np.float32), 2, 3)


def test_compress_output_always_decodes() -> None:
    rng = np.random.default_rng(11)
    for size, chunk, k in ((1, 1, 1), (1000, 64, 7), (5000, 4096, 512), (4097, 4096, 4096)):
        delta = (rng.standard_normal(size) * rng.choice([1e-30, 1e-3, 1.0, 1e30], size)).astype(np.float32)
        delta[rng.integers(0, size, size // 3)] = 0
        pg = compress(delta, chunk, k)
        assert decode(encode(pg, k), size, chunk, k) == pg


def test_error_feedback() -> None:
    delta = np.array([1.0, 0.5, 0.25, 0.0], dtype=np.float32)
    residual = np.array([0.0, 0.0, 0.5, 2.0], dtype=np.float32)
    pg, new = compress_with_feedback(delta, residual, 4, 2, 0.5)
    corrected = delta + np.float32(0.5) * residual  # [1, 0.5, 0.5, 1]
    assert pg.flat_indices().tolist() == [0, 3]
    dense = pg.dense()
    assert new.tolist() == (corrected - dense).tolist()
    assert new[1] == np.float32(0.5) and new[2] == np.float32(0.5)


def test_encode_validates_canonical_form() -> None:
    not_canonical = PseudoGradient(P, C, (_chunk(0.5, [1, 3], [1, 2]), _empty(), _empty()))
    with pytest.raises(BlobError) as caught:
        encode(not_canonical, K)
    assert (caught.value.field, caught.value.offset) == ("chunk[0].value", 28)
    assert encode(not_canonical, K, validate=False) == H + pg_chunk([1, 3], [1, 2]) + EMPTY_CHUNK + EMPTY_CHUNK


def test_structure_is_checked_on_construction() -> None:
    with pytest.raises(ValueError, match="chunks"):
        PseudoGradient(10, 4, (_empty(),))
    with pytest.raises(ValueError):
        _chunk(0.1, [1], [1])  # 0.1 is not a float32
    with pytest.raises(ValueError):
        Chunk(0.5, np.array([1, 2]), np.array([1]))
    with pytest.raises(ValueError):
        Chunk(0.5, np.array([70000]), np.array([1]))


def test_decode_checks_task_parameters() -> None:
    with pytest.raises(ValueError):
        decode(VALID, P, 0, K)
    with pytest.raises(ValueError):
        decode(VALID, P, C, C + 1)


# ---- every refusal: (name, blob, parameter_count, chunk_size, top_k, field, offset)


def _valid_prefix_chunk0_indices() -> bytes:
    return H + (2).to_bytes(2, "little") + f32_bits(0.5).to_bytes(4, "little")


REFUSALS = [
    ("longer than the maximum", VALID + bytes(13), P, C, K, "blob", 0),
    ("magic truncated", b"CP", P, C, K, "magic", 0),
    ("magic wrong", pg_header(P, C, K, 3, magic=b"CMDL") + C0 + EMPTY_CHUNK * 2, P, C, K, "magic", 0),
    ("version truncated", b"CPGD\x01", P, C, K, "version", 4),
    ("version 2", pg_header(P, C, K, 3, version=2) + C0 + EMPTY_CHUNK * 2, P, C, K, "version", 4),
    ("reserved truncated", b"CPGD\x01\x00\x00", P, C, K, "reserved", 6),
    ("reserved not 0", pg_header(P, C, K, 3, reserved=1) + C0 + EMPTY_CHUNK * 2, P, C, K, "reserved", 6),
    ("parameter_count truncated", H[:12], P, C, K, "parameter_count", 8),
    ("parameter_count wrong", pg_header(11, C, K, 3) + C0 + EMPTY_CHUNK * 2, P, C, K, "parameter_count", 8),
    ("chunk_size truncated", H[:17], P, C, K, "chunk_size", 16),
    ("chunk_size wrong", pg_header(P, 8, K, 3) + C0 + EMPTY_CHUNK * 2, P, C, K, "chunk_size", 16),
    ("top_k truncated", H[:22], P, C, K, "top_k", 20),
    ("top_k wrong", pg_header(P, C, 3, 3) + C0 + EMPTY_CHUNK * 2, P, C, K, "top_k", 20),
    ("chunk_count truncated", H[:26], P, C, K, "chunk_count", 24),
    ("chunk_count wrong", pg_header(P, C, K, 2) + C0 + EMPTY_CHUNK, P, C, K, "chunk_count", 24),
    ("no chunks", H, P, C, K, "chunk[0].count", 28),
    ("count truncated", H + b"\x00", P, C, K, "chunk[0].count", 28),
    ("count over top_k", H + pg_chunk([0, 1, 2], [127, 1, 1]) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].count", 28),
    # 9 parameters in chunks of 4 with top 3: the last chunk has 1 parameter, so at most 1 entry.
    (
        "count over a short last chunk",
        pg_header(9, 4, 3, 3) + EMPTY_CHUNK * 2 + pg_chunk([0, 1], [127, 1]),
        9,
        4,
        3,
        "chunk[2].count",
        40,
    ),
    ("later chunk missing", H + C0 + EMPTY_CHUNK, P, C, K, "chunk[2].count", 46),
    ("scale truncated", H + b"\x02\x00\x00\x00", P, C, K, "chunk[0].scale", 30),
    ("empty chunk with scale 1", H + pg_chunk([], [], scale_bits=f32_bits(1.0)) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].scale", 30),
    ("empty chunk with scale -0", H + pg_chunk([], [], scale_bits=0x8000_0000) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].scale", 30),
    ("entries with scale 0", H + pg_chunk([1, 3], [-127, 127], scale_bits=0) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].scale", 30),
    ("negative scale", H + pg_chunk([1, 3], [-127, 127], scale=-0.5) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].scale", 30),
    ("NaN scale", H + pg_chunk([1, 3], [-127, 127], scale_bits=0x7FC0_0000) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].scale", 30),
    (
        "infinite scale",
        H + pg_chunk([1, 3], [-127, 127], scale_bits=0x7F80_0000) + EMPTY_CHUNK * 2,
        P,
        C,
        K,
        "chunk[0].scale",
        30,
    ),
    ("127 × scale overflows", H + pg_chunk([1, 3], [-127, 127], scale=3e38) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].scale", 30),
    ("index outside the chunk", H + pg_chunk([1, 4], [-127, 127]) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].index[1]", 36),
    ("index outside a short last chunk", H + C0 + EMPTY_CHUNK + pg_chunk([0, 2], [127, 1]), P, C, K, "chunk[2].index[1]", 54),
    ("duplicate index", H + pg_chunk([3, 3], [-127, 127]) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].index[1]", 36),
    ("decreasing index", H + pg_chunk([3, 1], [-127, 127]) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].index[1]", 36),
    ("index truncated", _valid_prefix_chunk0_indices() + b"\x01\x00\x03", P, C, K, "chunk[0].index[1]", 36),
    # The node stops at the first bad index even when the blob ends after it.
    ("bad index before truncation", _valid_prefix_chunk0_indices() + b"\x07\x00", P, C, K, "chunk[0].index[0]", 34),
    ("value 0", H + pg_chunk([1, 3], [0, 127]) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].value[0]", 38),
    ("value -128", H + pg_chunk([1, 3], [127, -128]) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].value[1]", 39),
    ("value truncated", _valid_prefix_chunk0_indices() + b"\x01\x00\x03\x00\x7f", P, C, K, "chunk[0].value[1]", 39),
    ("bad value before truncation", _valid_prefix_chunk0_indices() + b"\x01\x00\x03\x00\x00", P, C, K, "chunk[0].value[0]", 38),
    # Indices are all read before values: a bad index wins over a bad value.
    ("bad index before bad value", H + pg_chunk([3, 1], [0, 0]) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].index[1]", 36),
    ("no value is ±127", H + pg_chunk([1, 3], [1, 126]) + EMPTY_CHUNK * 2, P, C, K, "chunk[0].value", 28),
    ("no ±127 in a later chunk", H + C0 + pg_chunk([0], [5]) + EMPTY_CHUNK, P, C, K, "chunk[1].value", 40),
    ("trailing byte", VALID + b"\x00", P, C, K, "blob", 52),
]


@pytest.mark.parametrize("blob,pc,cs,tk,field,offset", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_decode_refusal(blob: bytes, pc: int, cs: int, tk: int, field: str, offset: int) -> None:
    with pytest.raises(BlobError) as caught:
        decode(blob, pc, cs, tk)
    assert (caught.value.field, caught.value.offset) == (field, offset)
    assert str(caught.value).startswith(f"{field} at byte {offset}: ")


def test_refusal_messages() -> None:
    with pytest.raises(BlobError, match="truncated: needs 2 bytes, 1 left"):
        decode(_valid_prefix_chunk0_indices() + b"\x01\x00\x03", P, C, K)
    with pytest.raises(BlobError, match="duplicate index 3"):
        decode(H + pg_chunk([3, 3], [-127, 127]) + EMPTY_CHUNK * 2, P, C, K)
    with pytest.raises(BlobError, match="1 after 3: indices must increase"):
        decode(H + pg_chunk([3, 1], [-127, 127]) + EMPTY_CHUNK * 2, P, C, K)
    with pytest.raises(BlobError, match="4 is outside the chunk"):
        decode(H + pg_chunk([1, 4], [-127, 127]) + EMPTY_CHUNK * 2, P, C, K)
    with pytest.raises(BlobError, match="1 bytes trail the last chunk"):
        decode(VALID + b"\x00", P, C, K)


# ---- the node's own corruption table (Tests/CairnTrainingTests/PseudoGradientTests.swift),
# applied to the blob this client's `compress` makes of the same Δ.


def _swift_valid() -> bytes:
    delta = np.zeros(6000, dtype=np.float32)
    for i, v in ((3, 0.5), (10, -1.0), (4000, 0.25), (4100, 2.0), (5999, -0.1)):
        delta[i] = np.float32(v)
    return encode(compress(delta, 4096, 4), 4)


def _put(b: bytearray, fmt: str, value: object, at: int) -> None:
    size = struct.calcsize(fmt)
    b[at : at + size] = struct.pack(fmt, value)


SWIFT_CORRUPTIONS = {
    "magic": (lambda b: b.__setitem__(0, 0x58), "magic"),
    "version": (lambda b: b.__setitem__(4, 2), "version"),
    "reserved": (lambda b: b.__setitem__(6, 1), "reserved"),
    "parameterCount": (lambda b: b.__setitem__(8, 0x71), "parameter_count"),
    "chunkSize": (lambda b: b.__setitem__(17, 0), "chunk_size"),
    "topK": (lambda b: b.__setitem__(20, 5), "top_k"),
    "chunkCount": (lambda b: b.__setitem__(24, 3), "chunk_count"),
    "tooManyEntries": (lambda b: b.__setitem__(28, 5), "chunk[0].count"),
    "nanScale": (lambda b: _put(b, "<I", 0x7FC0_0000, 30), "chunk[0].scale"),
    "infiniteScale": (lambda b: _put(b, "<I", 0x7F80_0000, 30), "chunk[0].scale"),
    "negativeScale": (lambda b: _put(b, "<f", -1.0, 30), "chunk[0].scale"),
    "zeroScale": (lambda b: _put(b, "<f", 0.0, 30), "chunk[0].scale"),
    "hugeScale": (lambda b: _put(b, "<I", 0x7F7F_FFFF, 30), "chunk[0].scale"),
    "duplicateIndex": (lambda b: _put(b, "<H", 3, 36), "chunk[0].index[1]"),
    "decreasingIndex": (lambda b: _put(b, "<H", 2, 36), "chunk[0].index[1]"),
    "indexOutsideChunk": (lambda b: _put(b, "<H", 4096, 38), "chunk[0].index[2]"),
    "indexOutsideShortChunk": (lambda b: _put(b, "<H", 1904, 51), "chunk[1].index[1]"),
    "zeroValue": (lambda b: b.__setitem__(40, 0), "chunk[0].value[0]"),
    "minus128": (lambda b: b.__setitem__(40, 0x80), "chunk[0].value[0]"),
    "no127": (lambda b: b.__setitem__(slice(40, 43), b"\x03\x03\x03"), "chunk[0].value"),
    "trailingByte": (lambda b: b.append(0), "blob"),
    "truncated": (lambda b: b.pop(), "chunk[1].value[1]"),
    "empty": (lambda b: b.clear(), "magic"),
}


@pytest.mark.parametrize("name", list(SWIFT_CORRUPTIONS))
def test_swift_corruption_table(name: str) -> None:
    valid = _swift_valid()
    assert len(valid) == 55
    decode(valid, 6000, 4096, 4)
    corrupt, field = SWIFT_CORRUPTIONS[name]
    blob = bytearray(valid)
    corrupt(blob)
    with pytest.raises(BlobError) as caught:
        decode(bytes(blob), 6000, 4096, 4)
    assert caught.value.field == field

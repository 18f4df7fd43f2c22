"""Shared helpers: deterministic keys, and builders of raw blobs for the refusal tests.

The refusal tests write blobs byte by byte (not through `encode`, which refuses non-canonical
input) so each test states exactly which byte is wrong and at which offset the decoder must say so.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import pytest

from cairn_client.keys import SigningKey

# RFC 8032 §7.1, test 1: libsodium (the node) and PyNaCl must derive this key from this seed.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_EMPTY_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)

CHAIN = bytes(range(32))


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.from_seed(bytes([7]) * 32)


@pytest.fixture
def other_key() -> SigningKey:
    return SigningKey.from_seed(bytes([9]) * 32)


def f32_bits(value: float) -> int:
    return int.from_bytes(struct.pack("<f", value), "little")


def blob_header(magic: bytes, version: int = 1, reserved: int = 0) -> bytes:
    """The 8 bytes every Cairn blob starts with: magic, version u16, reserved u16 (little-endian)."""
    return magic + version.to_bytes(2, "little") + reserved.to_bytes(2, "little")


def pg_header(
    parameter_count: int,
    chunk_size: int,
    top_k: int,
    chunk_count: int,
    magic: bytes = b"CPGD",
    version: int = 1,
    reserved: int = 0,
) -> bytes:
    return (
        blob_header(magic, version, reserved)
        + parameter_count.to_bytes(8, "little")
        + chunk_size.to_bytes(4, "little")
        + top_k.to_bytes(4, "little")
        + chunk_count.to_bytes(4, "little")
    )


def pg_chunk(
    indices: Sequence[int], values: Sequence[int], scale: float = 0.5, count: int | None = None, scale_bits: int | None = None
) -> bytes:
    """One chunk: count u16 · scale f32 · indices u16 · values i8 (count defaults to len(indices))."""
    n = len(indices) if count is None else count
    bits = (f32_bits(scale) if indices else 0) if scale_bits is None else scale_bits
    return (
        n.to_bytes(2, "little")
        + bits.to_bytes(4, "little")
        + b"".join(i.to_bytes(2, "little") for i in indices)
        + bytes(v & 0xFF for v in values)
    )


EMPTY_CHUNK = pg_chunk([], [])

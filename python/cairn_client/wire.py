"""Cairn's canonical binary encoding (Sources/CairnCore/CanonicalWriter.swift, CanonicalReader.swift).

The canonical encoding is the one byte form of every value that is hashed, signed, stored or sent,
so every rule here is protocol:

- integers are fixed width and big-endian;
- a boolean is one byte, 0 or 1;
- byte strings and UTF-8 strings carry a u32 big-endian length, arrays a u32 element count;
  fixed-size values (digests, keys, signatures) carry no length;
- an optional is a 0 byte, or a 1 byte followed by the value;
- floats are their IEEE-754 bit pattern, and only finite values are valid;
- every top-level type starts with its own version byte.

`CanonicalReader` reads untrusted bytes: every failure is a `CodecError` naming the byte offset,
the field path (``RecordBody.transfer.amount``) and the problem, exactly where the Swift reader
reports it, so an error from this client and one from a node point at the same byte.

Also here: the domain tags every digest starts with (Sources/CairnCore/DomainTag.swift), the
domain-separated digest (Sources/CairnCrypto/SHA256.swift `Hashing.digest`) and strict hex.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

__all__ = [
    "DIGEST_BYTES",
    "PUBLIC_KEY_BYTES",
    "SIGNATURE_BYTES",
    "U8_MAX",
    "U16_MAX",
    "U32_MAX",
    "U64_MAX",
    "CanonicalReader",
    "CanonicalWriter",
    "CodecError",
    "DomainTag",
    "check_bytes",
    "check_uint",
    "digest",
    "from_hex",
    "is_f32",
    "round_f32",
    "to_hex",
]

DIGEST_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64

U8_MAX = 0xFF
U16_MAX = 0xFFFF
U32_MAX = 0xFFFF_FFFF
U64_MAX = 0xFFFF_FFFF_FFFF_FFFF


class DomainTag(IntEnum):
    """The one-byte prefix of every hashed message, so no two kinds of object share a digest.

    Protocol constants (Sources/CairnCore/DomainTag.swift): never renumbered, only appended.
    """

    VERTEX = 0x01
    RECORD = 0x02
    BLOB = 0x03
    MODEL = 0x04
    STATE_ROOT = 0x05
    GENESIS = 0x06
    SEQUENCE = 0x07
    VOTE = 0x08
    COIN_HASH = 0x09
    COIN_LEADER = 0x0A
    COIN_PROOF = 0x0B
    CHECKPOINT = 0x0C
    CORPUS = 0x0D
    CHANNEL = 0x0E
    PROPOSAL = 0x0F
    TRAINING = 0x10
    EVALUATION_COMMITMENT = 0x11
    STATE_LEAF = 0x12
    STATE_NODE = 0x13
    BLOB_UPLOAD = 0x14
    CEREMONY_JOIN = 0x15
    CEREMONY_DEAL = 0x16
    CEREMONY_RESPONSE = 0x17
    CEREMONY_SESSION = 0x18
    CEREMONY_SHARE = 0x19


def digest(tag: DomainTag | int, data: bytes | bytearray | memoryview) -> bytes:
    """SHA-256(tag byte ‖ data): every digest in Cairn (record ids, blob ids, model hashes…)."""
    tag_value = int(tag)
    if not 0 <= tag_value <= U8_MAX:
        raise ValueError(f"domain tag {tag_value} is not a byte")
    hasher = hashlib.sha256(bytes((tag_value,)))
    # Fed separately rather than concatenated: blobs can be tens of megabytes.
    hasher.update(data)
    return hasher.digest()


# --------------------------------------------------------------------------------------------
# Hex

_HEX = re.compile(r"[0-9a-fA-F]*")


def to_hex(data: bytes | bytearray | memoryview) -> str:
    """Lower-case hex, the text form of every digest and key in Cairn's files and APIs."""
    return bytes(data).hex()


def from_hex(text: str, size: int | None = None, what: str = "value") -> bytes:
    """Decodes hex of either case, refusing anything else.

    `bytes.fromhex` alone would accept spaces; the node's `Hex.decode` does not, so neither do we.
    `size` is the byte count required, if any; `what` names the value in the error.
    """
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a hex string, got {type(text).__name__}")
    if len(text) % 2 != 0 or _HEX.fullmatch(text) is None:
        raise ValueError(f"{what} '{text[:80]}' is not hexadecimal")
    data = bytes.fromhex(text)
    if size is not None and len(data) != size:
        raise ValueError(f"{what} must be {2 * size} hex characters, got {len(text)}")
    return data


# --------------------------------------------------------------------------------------------
# Value checks shared by the encoders


def check_uint(value: object, bits: int, what: str) -> int:
    """`value` as an unsigned integer of `bits` bits, or ValueError naming `what`."""
    # bool is an int subclass; a True where an amount belongs is a bug, not the number 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} must be an integer, got {type(value).__name__}")
    if not 0 <= value < (1 << bits):
        raise ValueError(f"{what} is {value}; it must be in 0…{(1 << bits) - 1} (u{bits})")
    return value


def check_bytes(value: object, size: int, what: str) -> bytes:
    """`value` as exactly `size` bytes, or ValueError naming `what`."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise ValueError(f"{what} must be {size} bytes, got {type(value).__name__}")
    data = bytes(value)
    if len(data) != size:
        raise ValueError(f"{what} must be {size} bytes, got {len(data)}")
    return data


def round_f32(value: float) -> float:
    """The float32 nearest to `value` (round to nearest even), as a Python float; ±inf past the range."""
    try:
        return float(struct.unpack("<f", struct.pack("<f", value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


def is_f32(value: float) -> bool:
    """Whether `value` is a finite float32 exactly (so encoding it loses nothing)."""
    return math.isfinite(value) and round_f32(value) == value


# --------------------------------------------------------------------------------------------
# Errors


class CodecError(ValueError):
    """Why decoding stopped, where, and inside which field (Swift's `CodecError`).

    `offset` is the byte offset in the input where the failing read started; `path` the field path
    from the outermost type, e.g. ``("RecordBody", "evaluation", "sim_hash")``; `reason` the problem.
    """

    def __init__(self, offset: int, reason: str, path: tuple[str, ...] = ()) -> None:
        self.offset = offset
        self.reason = reason
        self.path = path
        super().__init__(self._text())

    @property
    def field(self) -> str:
        """The path joined as Swift prints it: ``Genesis.validators[2].name``."""
        joined = ""
        for component in self.path:
            joined += component if not joined or component.startswith("[") else "." + component
        return joined

    def _text(self) -> str:
        location = f" in {self.field}" if self.path else ""
        return f"malformed encoding at byte {self.offset}{location}: {self.reason}"

    def prefixed(self, name: str) -> CodecError:
        """This error with `name` put in front of its path."""
        return CodecError(self.offset, self.reason, (name, *self.path))

    def __str__(self) -> str:
        return self._text()


# --------------------------------------------------------------------------------------------
# Writer


class CanonicalWriter:
    """Appends values in the canonical encoding. Refuses values the reader would refuse."""

    def __init__(self) -> None:
        self._parts = bytearray()

    def getvalue(self) -> bytes:
        return bytes(self._parts)

    def u8(self, value: int, what: str = "u8") -> None:
        self._parts.append(check_uint(value, 8, what))

    def u16(self, value: int, what: str = "u16") -> None:
        self._parts += check_uint(value, 16, what).to_bytes(2, "big")

    def u32(self, value: int, what: str = "u32") -> None:
        self._parts += check_uint(value, 32, what).to_bytes(4, "big")

    def u64(self, value: int, what: str = "u64") -> None:
        self._parts += check_uint(value, 64, what).to_bytes(8, "big")

    def boolean(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"expected a bool, got {type(value).__name__}")
        self._parts.append(1 if value else 0)

    def f32(self, value: float, what: str = "f32") -> None:
        """A float32 bit pattern; the value must be a finite float32 exactly (no silent rounding)."""
        if not is_f32(value):
            raise ValueError(f"{what} is {value!r}; it must be a finite float32 (round with wire.round_f32)")
        self._parts += struct.pack(">f", value)

    def f64(self, value: float, what: str = "f64") -> None:
        if not math.isfinite(value):
            raise ValueError(f"{what} is {value!r}; only finite values are encoded")
        self._parts += struct.pack(">d", value)

    def fixed(self, value: bytes, size: int, what: str = "value") -> None:
        """Raw bytes with no length prefix: only for values whose size the type fixes."""
        self._parts += check_bytes(value, size, what)

    def byte_string(self, value: bytes, max_length: int = U32_MAX, what: str = "bytes") -> None:
        """A u32-length-prefixed byte string of at most `max_length` bytes."""
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise ValueError(f"{what} must be bytes, got {type(value).__name__}")
        data = bytes(value)
        if len(data) > min(max_length, U32_MAX):
            raise ValueError(f"{what} is {len(data)} bytes; at most {min(max_length, U32_MAX)} are allowed")
        self._parts += len(data).to_bytes(4, "big")
        self._parts += data

    def string(self, value: str, max_length: int = U32_MAX, what: str = "string") -> None:
        """A u32-length-prefixed UTF-8 string of at most `max_length` bytes."""
        if not isinstance(value, str):
            raise ValueError(f"{what} must be a str, got {type(value).__name__}")
        self.byte_string(value.encode("utf-8"), max_length, what)


# --------------------------------------------------------------------------------------------
# Reader


class CanonicalReader:
    """Reads the canonical encoding from untrusted bytes, failing with `CodecError` (never a crash).

    Allocation is bounded by the input: a length is checked against the bytes that remain before
    anything is copied.
    """

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._data = bytes(data)
        self.offset = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self.offset

    def fail(self, reason: str, at: int | None = None) -> CodecError:
        return CodecError(self.offset if at is None else at, reason)

    @contextmanager
    def field(self, name: str) -> Iterator[None]:
        """Prefixes the path of any `CodecError` raised inside with `name` (Swift's `field`)."""
        try:
            yield
        except CodecError as error:
            raise error.prefixed(name) from None

    def _take(self, count: int) -> bytes:
        if count < 0 or count > self.remaining:
            raise self.fail(f"needs {count} more bytes but only {self.remaining} remain")
        start = self.offset
        self.offset += count
        return self._data[start : start + count]

    def u8(self) -> int:
        return self._take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self._take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self._take(4), "big")

    def u64(self) -> int:
        return int.from_bytes(self._take(8), "big")

    def boolean(self) -> bool:
        start = self.offset
        value = self.u8()
        if value not in (0, 1):
            raise self.fail(f"boolean byte is {value}, must be 0 or 1", at=start)
        return value == 1

    def f32(self) -> float:
        """A finite float32; NaN and infinities are refused so that decoded values compare equal."""
        start = self.offset
        (value,) = struct.unpack(">f", self._take(4))
        if not math.isfinite(value):
            raise self.fail("floating-point value is NaN or infinite", at=start)
        return float(value)

    def f64(self) -> float:
        start = self.offset
        (value,) = struct.unpack(">d", self._take(8))
        if not math.isfinite(value):
            raise self.fail("floating-point value is NaN or infinite", at=start)
        return float(value)

    def fixed(self, count: int) -> bytes:
        """`count` raw bytes (public keys, signatures: Swift's `readFixed`)."""
        return self._take(count)

    def digest(self) -> bytes:
        """A 32-byte digest.

        Read as four big-endian u64 words, as Swift's `Digest` does (it stores digests as words):
        on truncation the error points at the word that ran out, not at the digest's first byte.
        """
        return b"".join(self._take(8) for _ in range(4))

    def byte_string(self, max_length: int = U32_MAX) -> bytes:
        """A length-prefixed byte string of at most `max_length` bytes (and never more than remain)."""
        start = self.offset
        length = self.u32()
        if length > max_length:
            raise self.fail(f"length {length} exceeds the limit of {max_length}", at=start)
        return self._take(length)

    def string(self, max_length: int = U32_MAX) -> str:
        """A length-prefixed UTF-8 string; invalid UTF-8 is refused, never repaired."""
        start = self.offset
        raw = self.byte_string(max_length)
        try:
            return raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise self.fail("string is not valid UTF-8", at=start) from None

    def expect_version(self, supported: int) -> None:
        start = self.offset
        found = self.u8()
        if found != supported:
            raise self.fail(f"version {found} is not supported (this client reads version {supported})", at=start)

    def finish(self) -> None:
        """Succeeds only if every input byte was consumed."""
        if self.remaining != 0:
            raise self.fail(f"{self.remaining} unexpected bytes after the value")

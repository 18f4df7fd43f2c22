"""Little-endian reading and writing of Cairn's blobs (Sources/CairnTraining/BlobReader.swift).

Blobs (pseudo-gradients, models, trainer state) are little-endian, unlike the canonical encoding,
and every one starts with an 8-byte header: a 4-byte magic, a u16 version and a u16 reserved 0.
Every refusal is a `BlobError` with the field name and byte offset the node would report.
"""

from __future__ import annotations

import struct

import numpy as np
import numpy.typing as npt

from .wire import DomainTag, digest

__all__ = ["BlobError", "BlobReader", "BlobWriter", "blob_id"]


class BlobError(ValueError):
    """Why a blob was refused: the field, its byte offset, and the problem (Swift's `BlobError`)."""

    def __init__(self, field: str, offset: int, problem: str) -> None:
        self.field = field
        self.offset = offset
        self.problem = problem
        super().__init__(f"{field} at byte {offset}: {problem}")


def blob_id(blob: bytes) -> bytes:
    """A blob's id, under which nodes store and serve it: SHA-256(0x03 ‖ blob)."""
    return digest(DomainTag.BLOB, blob)


class BlobReader:
    """Reads little-endian fields from untrusted bytes; each read checks the length first."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    @property
    def remaining(self) -> int:
        return len(self.data) - self.offset

    def truncated(self, count: int, field: str) -> BlobError:
        return BlobError(field, self.offset, f"truncated: needs {count} bytes, {self.remaining} left")

    def take(self, count: int, field: str) -> bytes:
        if count < 0 or count > self.remaining:
            raise self.truncated(count, field)
        start = self.offset
        self.offset += count
        return self.data[start : start + count]

    def uint(self, width: int, field: str) -> int:
        return int.from_bytes(self.take(width, field), "little")

    def u8(self, field: str) -> int:
        return self.uint(1, field)

    def u16(self, field: str) -> int:
        return self.uint(2, field)

    def u32(self, field: str) -> int:
        return self.uint(4, field)

    def u64(self, field: str) -> int:
        return self.uint(8, field)

    def f32(self, field: str) -> float:
        return float(struct.unpack("<f", self.take(4, field))[0])

    def finite_f32s(self, field: str, count: int) -> npt.NDArray[np.float32]:
        """The rest of the blob as exactly `count` little-endian float32s, each finite; the first
        non-finite one is named as `field[i]` at its byte offset (model parameters, residuals)."""
        if self.remaining != 4 * count:
            raise BlobError(field, self.offset, f"{self.remaining} bytes; exactly {4 * count} expected")
        start = self.offset
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=start).astype(np.float32)
        finite = np.isfinite(values)
        if not finite.all():
            bad = int(np.argmin(finite))
            raise BlobError(f"{field}[{bad}]", start + 4 * bad, f"{values[bad]} is not finite")
        self.offset += 4 * count
        return values

    def header(self, magic: bytes, version: int, kind: str) -> None:
        """Reads and checks the 8-byte header: magic, version, reserved = 0."""
        if self.take(len(magic), "magic") != magic:
            raise BlobError("magic", 0, f'not a Cairn {kind} (expected "{magic.decode("ascii")}")')
        version_at = self.offset
        found = self.u16("version")
        if found != version:
            raise BlobError("version", version_at, f"version {found} is not supported (this client reads version {version})")
        reserved_at = self.offset
        if self.u16("reserved") != 0:
            raise BlobError("reserved", reserved_at, "must be 0")


class BlobWriter:
    """Appends little-endian fields."""

    def __init__(self) -> None:
        self.parts = bytearray()

    def raw(self, data: bytes) -> None:
        self.parts += data

    def uint(self, value: int, width: int) -> None:
        self.parts += value.to_bytes(width, "little")

    def u8(self, value: int) -> None:
        self.uint(value, 1)

    def u16(self, value: int) -> None:
        self.uint(value, 2)

    def u32(self, value: int) -> None:
        self.uint(value, 4)

    def u64(self, value: int) -> None:
        self.uint(value, 8)

    def f32(self, value: float) -> None:
        self.parts += struct.pack("<f", value)

    def header(self, magic: bytes, version: int) -> None:
        self.raw(magic)
        self.u16(version)
        self.u16(0)

    def getvalue(self) -> bytes:
        return bytes(self.parts)

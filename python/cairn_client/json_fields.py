"""Checked access to untrusted JSON (node replies, genesis task).

A node's reply is untrusted: a wrong type, a missing key, a negative count or a 63-character hash
must stop the client with an error naming the field, not surface later as a TypeError deep inside
training. `Obj` wraps one JSON object with its path (``window.contributions[3].blob``) and reads
each field with the check its Swift type implies (UInt64: an integer in 0…2^64 − 1; Digest: 64 hex
characters; …), raising `InvalidReply`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from .wire import from_hex

__all__ = ["InvalidReply", "Obj", "parse_json"]

T = TypeVar("T")


class InvalidReply(ValueError):
    """A reply (or a JSON document) that is not what the API defines; `field` is its path."""

    def __init__(self, field: str, problem: str, source: str = "") -> None:
        self.field = field
        self.problem = problem
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {problem}")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(data: bytes, source: str) -> Any:
    """Parses strict JSON (no NaN or Infinity, which the node never sends)."""
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidReply("body", f"not valid JSON ({error}): {data[:200]!r}", source) from None


class Obj:
    """One JSON object of a reply, with its path for error messages."""

    __slots__ = ("path", "source", "value")

    def __init__(self, value: object, path: str, source: str = "") -> None:
        if not isinstance(value, dict):
            raise InvalidReply(path, f"expected a JSON object, got {type(value).__name__}", source)
        self.value: dict[str, Any] = value
        self.path = path
        self.source = source

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> InvalidReply:
        return InvalidReply(self._name(key), problem, self.source)

    def has(self, key: str) -> bool:
        """Present and not null (Swift omits nil optionals; null is read as absent too)."""
        return self.value.get(key) is not None

    def raw(self, key: str) -> Any:
        if key not in self.value:
            raise self.fail(key, "missing")
        return self.value[key]

    def uint(self, key: str, bits: int = 64, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.raw(key)
        top = (1 << bits) - 1 if maximum is None else maximum
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(key, f"expected an integer, got {value!r:.80}")
        if not minimum <= value <= top:
            raise self.fail(key, f"{value} is outside {minimum}…{top}")
        return value

    def sint(self, key: str, bits: int = 64) -> int:
        value = self.raw(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(key, f"expected an integer, got {value!r:.80}")
        if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
            raise self.fail(key, f"{value} does not fit a signed {bits}-bit integer")
        return value

    def number(self, key: str) -> float:
        value = self.raw(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise self.fail(key, f"expected a finite number, got {value!r:.80}")
        return float(value)

    def boolean(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r:.80}")
        return value

    def text(self, key: str, max_length: int = 1 << 16) -> str:
        value = self.raw(key)
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {value!r:.80}")
        if len(value) > max_length:
            raise self.fail(key, f"is {len(value)} characters; at most {max_length} expected")
        return value

    def hex(self, key: str, size: int | None = None, max_bytes: int = 1 << 16) -> bytes:
        """Hex bytes: exactly `size` bytes when given (32 for digests and keys, 64 for signatures)."""
        value = self.text(key, 2 * (size if size is not None else max_bytes))
        try:
            return from_hex(value, size, "value")
        except ValueError as error:
            raise self.fail(key, str(error)) from None

    def obj(self, key: str) -> Obj:
        return Obj(self.raw(key), self._name(key), self.source)

    def optional(self, key: str, read: Callable[[str], T]) -> T | None:
        """`read(key)` when the key is present and not null, else None."""
        return read(key) if self.has(key) else None

    def items(self, key: str, max_items: int = 1_000_000) -> Iterator[tuple[Any, str]]:
        """The elements of a list with their paths."""
        value = self.raw(key)
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {type(value).__name__}")
        if len(value) > max_items:
            raise self.fail(key, f"has {len(value)} elements; at most {max_items} expected")
        for index, element in enumerate(value):
            yield element, f"{self._name(key)}[{index}]"

    def objs(self, key: str, max_items: int = 1_000_000) -> list[Obj]:
        return [Obj(element, path, self.source) for element, path in self.items(key, max_items)]

    def uints(self, key: str, bits: int = 64, max_items: int = 1_000_000) -> list[int]:
        out = []
        for element, path in self.items(key, max_items):
            if not isinstance(element, int) or isinstance(element, bool) or not 0 <= element < (1 << bits):
                raise InvalidReply(path, f"expected a u{bits}, got {element!r:.80}", self.source)
            out.append(element)
        return out

    def texts(self, key: str, max_items: int = 1_000_000, max_length: int = 1 << 16) -> list[str]:
        out = []
        for element, path in self.items(key, max_items):
            if not isinstance(element, str) or len(element) > max_length:
                raise InvalidReply(path, f"expected a string, got {element!r:.80}", self.source)
            out.append(element)
        return out

    def hexes(self, key: str, size: int, max_items: int = 1_000_000) -> list[bytes]:
        out = []
        for element, path in self.items(key, max_items):
            try:
                out.append(from_hex(element, size, "value"))
            except ValueError as error:
                raise InvalidReply(path, str(error), self.source) from None
        return out

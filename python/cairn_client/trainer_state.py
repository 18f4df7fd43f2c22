"""What a trainer keeps between windows and across restarts (Sources/CairnTraining/TrainerState.swift).

`cairn submit` writes it next to the key file as ``KEY.state``: the error-feedback residual and the
last window contributed to. Little-endian::

    magic "CTRS" · version u16 = 1 · reserved u16 = 0 · last_window u64 (2^64 − 1: none)
    parameter_count u64 · residual f32 × count

The file format is the node CLI's, so a trainer can move between `cairn submit` and this client
without losing its error feedback.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .blob_io import BlobError, BlobReader, BlobWriter

__all__ = [
    "MAGIC",
    "NO_WINDOW",
    "VERSION",
    "TrainerState",
    "TrainerStateFileError",
    "read_trainer_state",
    "trainer_state_path",
    "write_trainer_state",
]

MAGIC = b"CTRS"
VERSION = 1
NO_WINDOW = 0xFFFF_FFFF_FFFF_FFFF
"""How the file says "no window yet"."""
_HEADER_BYTES = 8 + 8 + 8


@dataclass(frozen=True, eq=False)
class TrainerState:
    """The last window contributed to (None: none yet) and the float32 error-feedback residual."""

    last_window: int | None
    residual: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        if self.last_window is not None and (
            not isinstance(self.last_window, int) or isinstance(self.last_window, bool) or not 0 <= self.last_window < NO_WINDOW
        ):
            raise ValueError(f"last_window {self.last_window!r} must be None or 0…2^64 − 2")
        residual = np.asarray(self.residual)
        if residual.dtype != np.float32 or residual.ndim != 1:
            raise ValueError("residual must be a one-dimensional float32 array")
        finite = np.isfinite(residual)
        if not finite.all():
            raise ValueError(f"residual[{int(np.argmin(finite))}] is not finite; the state would not decode")
        object.__setattr__(self, "residual", residual)

    @classmethod
    def empty(cls, parameter_count: int) -> TrainerState:
        """No window yet, zero residual (a trainer's first run)."""
        return cls(None, np.zeros(parameter_count, dtype=np.float32))

    def encode(self) -> bytes:
        w = BlobWriter()
        w.header(MAGIC, VERSION)
        w.u64(NO_WINDOW if self.last_window is None else self.last_window)
        w.u64(self.residual.size)
        w.raw(self.residual.astype("<f4").tobytes())
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, parameter_count: int) -> TrainerState:
        """Decodes a state file for a model of `parameter_count` parameters; `BlobError` naming the
        field for another model's size, a wrong length or a non-finite value."""
        if not isinstance(parameter_count, int) or parameter_count < 0:
            raise ValueError(f"parameter_count {parameter_count!r} must be a non-negative integer")
        data = bytes(data)
        r = BlobReader(data)
        r.header(MAGIC, VERSION, "trainer state")
        last = r.u64("last_window")
        count_at = r.offset
        count = r.u64("parameter_count")
        if count != parameter_count:
            raise BlobError("parameter_count", count_at, f"{count} parameters; this task's model has {parameter_count}")
        residual = r.finite_f32s("residual", parameter_count)
        return cls(None if last == NO_WINDOW else last, residual)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TrainerState):
            return NotImplemented
        return self.last_window == other.last_window and np.array_equal(self.residual, other.residual)

    __hash__ = None  # type: ignore[assignment]


class TrainerStateFileError(Exception):
    """A state file that does not decode for this task; says what to do."""

    def __init__(self, path: str, error: BlobError) -> None:
        self.path = path
        self.error = error
        super().__init__(
            f"{path}: {error}; it belongs to another task or is damaged — move it away to start with empty error feedback"
        )


def trainer_state_path(key_path: str | os.PathLike[str]) -> str:
    """Where `cairn submit` keeps the state of the trainer whose key file is `key_path`."""
    return os.fspath(key_path) + ".state"


def read_trainer_state(path: str | os.PathLike[str], parameter_count: int) -> TrainerState:
    """The state at `path`, or an empty one when there is no file yet."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as file:
            # Bounded: a valid file is exactly the header and the residual, so one byte more is
            # enough to refuse a longer one (its reported length is then that one byte over).
            data = file.read(_HEADER_BYTES + 4 * parameter_count + 1)
    except FileNotFoundError:
        return TrainerState.empty(parameter_count)
    try:
        return TrainerState.decode(data, parameter_count)
    except BlobError as error:
        raise TrainerStateFileError(name, error) from None


def write_trainer_state(path: str | os.PathLike[str], state: TrainerState) -> None:
    """Replaces the state at `path` atomically (a crash leaves the old state or the new, never half)."""
    name = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(name))
    fd, temporary = tempfile.mkstemp(prefix=".state-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(state.encode())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, name)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise

"""A model's parameters as stored and exchanged (Sources/CairnTraining/ModelBlob.swift,
ModelLayout.swift), version 1, little-endian::

    magic "CMDL" · version u16 = 1 · reserved u16 = 0
    task name: length u8 + UTF-8 · context u32 · embedding u32 · hidden count u8 · hidden u32s
    vocabulary u32 · parameter_count u64 · parameters f32 × count

The model hash is SHA-256(0x04 ‖ blob). A decoder refuses a blob whose task or shape differs from
genesis, whose length is not exact, or that holds a non-finite value, naming the field and offset
as the node does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .blob_io import BlobError, BlobReader, BlobWriter
from .wire import DomainTag, digest

__all__ = [
    "MAGIC",
    "MAX_LAYOUT_PARAMETERS",
    "MAX_LAYOUT_WIDTH",
    "VERSION",
    "ModelSpec",
    "decode_model",
    "encode_model",
    "model_hash",
]

MAGIC = b"CMDL"
VERSION = 1
MAX_LAYOUT_PARAMETERS = 1 << 26
"""Largest model the reference task accepts (ModelLayout.maxParameters)."""
MAX_LAYOUT_WIDTH = 1 << 14
"""Largest dimension the reference task accepts (ModelLayout.maxWidth)."""


@dataclass(frozen=True)
class ModelSpec:
    """The byte-level MLP's shape (genesis ``task.model``)."""

    context_bytes: int
    embedding_dim: int
    hidden_units: tuple[int, ...]
    vocabulary: int

    def __post_init__(self) -> None:
        if isinstance(self.hidden_units, (str, bytes)) or not isinstance(self.hidden_units, Sequence):
            raise ValueError("hidden_units must be a sequence of integers")
        object.__setattr__(self, "hidden_units", tuple(self.hidden_units))
        for name, value in (
            ("context_bytes", self.context_bytes),
            ("embedding_dim", self.embedding_dim),
            ("vocabulary", self.vocabulary),
            *((f"hidden_units[{i}]", units) for i, units in enumerate(self.hidden_units)),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFF_FFFF:
                raise ValueError(f"task.model.{name} is {value!r}; it must be a u32")

    @classmethod
    def from_json(cls, value: Mapping[str, object]) -> ModelSpec:
        """From genesis JSON (``{"context_bytes", "embedding_dim", "hidden_units", "vocabulary"}``)."""
        if not isinstance(value, Mapping):
            raise ValueError("task.model must be an object")
        try:
            hidden = value["hidden_units"]
            if not isinstance(hidden, list):
                raise ValueError("task.model.hidden_units must be a list")
            return cls(value["context_bytes"], value["embedding_dim"], tuple(hidden), value["vocabulary"])  # type: ignore[arg-type]
        except KeyError as error:
            raise ValueError(f"task.model has no key {error}") from None

    def to_json(self) -> dict[str, object]:
        return {
            "context_bytes": self.context_bytes,
            "embedding_dim": self.embedding_dim,
            "hidden_units": list(self.hidden_units),
            "vocabulary": self.vocabulary,
        }

    @property
    def parameter_count(self) -> int:
        """Weights and biases: embedding table, each hidden layer (weight and bias), output layer."""
        count = self.vocabulary * self.embedding_dim
        width = self.context_bytes * self.embedding_dim
        for units in self.hidden_units:
            count += width * units + units
            width = units
        return count + width * self.vocabulary + self.vocabulary

    def layout_problem(self) -> str | None:
        """Why the reference task cannot lay out this model (ModelLayout's checks), or None."""
        widths = [self.context_bytes, self.embedding_dim, self.vocabulary, *self.hidden_units]
        if not all(1 <= w <= MAX_LAYOUT_WIDTH for w in widths) or not self.hidden_units:
            return (
                f"task.model: every dimension must be 1…{MAX_LAYOUT_WIDTH} with at least one hidden layer "
                f"(got context {self.context_bytes}, embedding {self.embedding_dim}, hidden {list(self.hidden_units)}, "
                f"vocabulary {self.vocabulary})"
            )
        if self.vocabulary != 256:
            return f"task.model.vocabulary must be 256 for a byte-level model (got {self.vocabulary})"
        if self.parameter_count > MAX_LAYOUT_PARAMETERS:
            return f"task.model has {self.parameter_count} parameters; the reference task allows at most {MAX_LAYOUT_PARAMETERS}"
        return None

    def describe(self) -> str:
        return f"{self.context_bytes}/{self.embedding_dim}/{list(self.hidden_units)}/{self.vocabulary}"


def model_hash(blob: bytes) -> bytes:
    """The model hash: SHA-256(0x04 ‖ blob)."""
    return digest(DomainTag.MODEL, blob)


def encode_model(parameters: npt.ArrayLike, task_name: str, spec: ModelSpec) -> bytes:
    """The model blob of float32 `parameters` for task `task_name` and shape `spec`.

    Refuses a non-finite parameter with `BlobError("parameters[i]", 0, …)` as the node does (such a
    model would be refused by every decoder). Also refuses, with ValueError, what the node would
    silently turn into a blob no decoder accepts: a name over 255 bytes, over 255 hidden layers, or
    a parameter count that is not the shape's.
    """
    values = np.asarray(parameters)
    if values.dtype != np.float32 or values.ndim != 1:
        raise ValueError("parameters must be a one-dimensional float32 array (np.asarray(x, dtype=np.float32))")
    finite = np.isfinite(values)
    if not finite.all():
        bad = int(np.argmin(finite))
        raise BlobError(
            f"parameters[{bad}]", 0, f"{values[bad]} is not finite; a model with a non-finite parameter is not encoded"
        )
    name = task_name.encode("utf-8")
    if len(name) > 255:
        raise ValueError(f"task name is {len(name)} bytes; a model blob holds at most 255")
    if len(spec.hidden_units) > 255:
        raise ValueError(f"{len(spec.hidden_units)} hidden layers; a model blob holds at most 255")
    if values.size != spec.parameter_count:
        raise ValueError(f"{values.size} parameters; the shape {spec.describe()} has {spec.parameter_count}")
    w = BlobWriter()
    w.header(MAGIC, VERSION)
    w.u8(len(name))
    w.raw(name)
    w.u32(spec.context_bytes)
    w.u32(spec.embedding_dim)
    w.u8(len(spec.hidden_units))
    for units in spec.hidden_units:
        w.u32(units)
    w.u32(spec.vocabulary)
    w.u64(values.size)
    w.raw(values.astype("<f4").tobytes())
    return w.getvalue()


def decode_model(data: bytes, task_name: str, spec: ModelSpec) -> npt.NDArray[np.float32]:
    """The float32 parameters of a model blob for genesis' task `task_name` and shape `spec`;
    `BlobError` for anything the node refuses."""
    problem = spec.layout_problem()
    if problem is not None:
        raise BlobError("genesis task.model", 0, problem)
    data = bytes(data)
    r = BlobReader(data)
    r.header(MAGIC, VERSION, "model")
    name_at = r.offset
    name_length = r.u8("task.length")
    # Decoded with repair, as the node decodes it, then compared as text.
    blob_name = r.take(name_length, "task").decode("utf-8", errors="replace")
    if blob_name != task_name:
        raise BlobError("task", name_at, f"model of task '{blob_name}', genesis names '{task_name}'")
    shape_at = r.offset
    context = r.u32("context_bytes")
    embedding = r.u32("embedding_dim")
    layers = r.u8("hidden_count")
    hidden = tuple(r.u32(f"hidden_units[{i}]") for i in range(layers))
    vocabulary = r.u32("vocabulary")
    shape = ModelSpec(context, embedding, hidden, vocabulary)
    if shape != spec:
        raise BlobError("shape", shape_at, f"model shape {shape.describe()} differs from genesis {spec.describe()}")
    count_at = r.offset
    count = r.u64("parameter_count")
    expected = spec.parameter_count
    if count != expected:
        raise BlobError("parameter_count", count_at, f"{count} does not match the shape's {expected}")
    return r.finite_f32s("parameters", expected)

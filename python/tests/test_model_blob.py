"""Model blobs: layout, hash, and every refusal of the decoder with the node's field and offset."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pytest
from conftest import blob_header

from cairn_client.blobs import BlobError, ModelSpec, decode_model, encode_model, model_hash

SPEC = ModelSpec(2, 2, (3,), 256)
NAME = "t"
COUNT = 256 * 2 + (2 * 2 * 3 + 3) + (3 * 256 + 256)
# Offsets with a one-byte name: length 8, name 9, context 10, embedding 14, hidden count 18,
# hidden[0] 19, vocabulary 23, parameter_count 27, parameters 35.
PARAMETERS_AT = 35


def _parameters() -> np.ndarray:
    return (np.arange(COUNT, dtype=np.float32) - np.float32(700)) / np.float32(64)


def _blob(
    name: bytes = b"t",
    context: int = 2,
    embedding: int = 2,
    hidden: tuple[int, ...] = (3,),
    vocabulary: int = 256,
    count: int = COUNT,
    parameters: bytes | None = None,
    magic: bytes = b"CMDL",
    version: int = 1,
    reserved: int = 0,
) -> bytes:
    return (
        blob_header(magic, version, reserved)
        + bytes([len(name)])
        + name
        + context.to_bytes(4, "little")
        + embedding.to_bytes(4, "little")
        + bytes([len(hidden)])
        + b"".join(h.to_bytes(4, "little") for h in hidden)
        + vocabulary.to_bytes(4, "little")
        + count.to_bytes(8, "little")
        + (_parameters().astype("<f4").tobytes() if parameters is None else parameters)
    )


def test_reference_parameter_count() -> None:
    assert ModelSpec(16, 32, (512, 512), 256).parameter_count == 664_832
    assert SPEC.parameter_count == COUNT


def test_encode_layout_and_round_trip() -> None:
    blob = encode_model(_parameters(), NAME, SPEC)
    assert blob == _blob()
    assert len(blob) == PARAMETERS_AT + 4 * COUNT
    assert np.array_equal(decode_model(blob, NAME, SPEC), _parameters())
    assert model_hash(blob) == hashlib.sha256(b"\x04" + blob).digest()


def test_encode_refuses_non_finite_as_the_node_does() -> None:
    values = _parameters()
    values[5] = np.inf
    with pytest.raises(BlobError) as caught:
        encode_model(values, NAME, SPEC)
    assert (caught.value.field, caught.value.offset) == ("parameters[5]", 0)


def test_encode_refuses_what_no_decoder_accepts() -> None:
    with pytest.raises(ValueError, match="float32"):
        encode_model(_parameters().astype(np.float64), NAME, SPEC)
    with pytest.raises(ValueError, match="255"):
        encode_model(_parameters(), "x" * 256, SPEC)
    with pytest.raises(ValueError, match="parameters"):
        encode_model(_parameters()[:-1], NAME, SPEC)


def test_spec_from_json() -> None:
    spec = ModelSpec.from_json({"context_bytes": 16, "embedding_dim": 32, "hidden_units": [512, 512], "vocabulary": 256})
    assert spec == ModelSpec(16, 32, (512, 512), 256)
    assert ModelSpec.from_json(spec.to_json()) == spec
    with pytest.raises(ValueError):
        ModelSpec.from_json({"context_bytes": 16, "embedding_dim": 32, "vocabulary": 256})
    with pytest.raises(ValueError):
        ModelSpec(-1, 1, (1,), 256)


def _with_value(index: int, bits: int) -> bytes:
    raw = bytearray(_parameters().astype("<f4").tobytes())
    raw[4 * index : 4 * index + 4] = struct.pack("<I", bits)
    return bytes(raw)


REFUSALS = [
    ("vocabulary not 256", _blob(), ModelSpec(2, 2, (3,), 255), "genesis task.model", 0),
    ("no hidden layer", _blob(), ModelSpec(2, 2, (), 256), "genesis task.model", 0),
    ("width over 2^14", _blob(), ModelSpec(2, 1 << 14 + 1, (3,), 256), "genesis task.model", 0),
    ("over 2^26 parameters", _blob(), ModelSpec(16, 1024, (8192,), 256), "genesis task.model", 0),
    ("magic truncated", b"CM", SPEC, "magic", 0),
    ("magic wrong", _blob(magic=b"CPGD"), SPEC, "magic", 0),
    ("version truncated", b"CMDL\x01", SPEC, "version", 4),
    ("version 2", _blob(version=2), SPEC, "version", 4),
    ("reserved not 0", _blob(reserved=3), SPEC, "reserved", 6),
    ("name length missing", _blob()[:8], SPEC, "task.length", 8),
    ("name truncated", _blob(name=b"tt")[:10], SPEC, "task", 9),
    ("other task", _blob(name=b"u"), SPEC, "task", 8),
    ("longer name", _blob(name=b"tt"), SPEC, "task", 8),
    ("context truncated", _blob()[:12], SPEC, "context_bytes", 10),
    ("embedding truncated", _blob()[:16], SPEC, "embedding_dim", 14),
    ("hidden count missing", _blob()[:18], SPEC, "hidden_count", 18),
    ("hidden unit truncated", _blob()[:21], SPEC, "hidden_units[0]", 19),
    ("vocabulary truncated", _blob()[:25], SPEC, "vocabulary", 23),
    ("other context", _blob(context=3), SPEC, "shape", 10),
    ("other hidden", _blob(hidden=(4,)), SPEC, "shape", 10),
    ("extra hidden layer", _blob(hidden=(3, 3)), SPEC, "shape", 10),
    ("other vocabulary", _blob(vocabulary=255), SPEC, "shape", 10),
    ("parameter_count truncated", _blob()[:30], SPEC, "parameter_count", 27),
    ("parameter_count wrong", _blob(count=COUNT + 1), SPEC, "parameter_count", 27),
    ("one value short", _blob()[:-4], SPEC, "parameters", PARAMETERS_AT),
    ("one byte long", _blob() + b"\x00", SPEC, "parameters", PARAMETERS_AT),
    ("NaN parameter", _blob(parameters=_with_value(7, 0x7FC0_0000)), SPEC, "parameters[7]", PARAMETERS_AT + 28),
    (
        "infinite parameter",
        _blob(parameters=_with_value(COUNT - 1, 0xFF80_0000)),
        SPEC,
        f"parameters[{COUNT - 1}]",
        PARAMETERS_AT + 4 * (COUNT - 1),
    ),
]


@pytest.mark.parametrize("blob,spec,field,offset", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_decode_refusal(blob: bytes, spec: ModelSpec, field: str, offset: int) -> None:
    with pytest.raises(BlobError) as caught:
        decode_model(blob, NAME, spec)
    assert (caught.value.field, caught.value.offset) == (field, offset)


def test_first_non_finite_parameter_is_named() -> None:
    raw = bytearray(_with_value(9, 0x7F80_0000))
    raw[4 * 20 : 4 * 21] = struct.pack("<I", 0x7FC0_0000)
    with pytest.raises(BlobError, match="parameters\\[9\\] at byte 71: inf is not finite"):
        decode_model(_blob(parameters=bytes(raw)), NAME, SPEC)

"""Cross-implementation vectors: the Swift node's own bytes, checked here byte for byte.

`Tests/Interop/vectors.json` (from the repository root) is written by a Swift test from the node's
encoders. Every test here fails — never skips — when the file or one of its sections is missing or
empty: a silent skip would let the two implementations drift apart unnoticed.

Conventions of the file: hex is lower case; u64 values are decimal strings; float32 values are
their bit pattern as 8 hex digits (``"40490fdb"``); the L2 norm is its float64 bit pattern as 16
hex digits. Record fields use the Swift reader's `field("...")` labels, nested as the reader
nests them (``compression``, ``own`` and ``random`` are objects).
"""

from __future__ import annotations

import json
import struct
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cairn_client.api import blob_upload_signing_bytes
from cairn_client.blobs import (
    BlobError,
    ModelSpec,
    TrainerState,
    blob_id,
    decode,
    decode_model,
    encode,
    encode_model,
    model_hash,
)
from cairn_client.keys import SigningKey, verify_signature
from cairn_client.records import (
    CheckpointVote,
    CompressionParameters,
    Contribution,
    Evaluation,
    EvaluationCommit,
    LossPair,
    RecordBody,
    Register,
    SignedRecord,
    Transfer,
    decode_body,
    encode_body,
    frame_records,
    record_id,
    signing_bytes,
    split_frame,
)
from cairn_client.wire import digest

VECTORS = Path(__file__).resolve().parents[2] / "Tests/Interop/vectors.json"


@cache
def _load() -> dict[str, Any]:
    if not VECTORS.is_file():
        pytest.fail(f"{VECTORS} does not exist: run the Swift interop test that writes it (see python/README.md)")
    with VECTORS.open() as file:
        document = json.load(file)
    if not isinstance(document, dict):
        pytest.fail(f"{VECTORS} is not a JSON object")
    return document


def section(name: str) -> Any:
    """One section of the vectors; fails the test when it is missing or empty."""
    document = _load()
    if name not in document:
        pytest.fail(f"{VECTORS} has no '{name}' section")
    value = document[name]
    if value is None or (isinstance(value, (list, dict)) and not value):
        pytest.fail(f"{VECTORS} section '{name}' is empty")
    return value


def key_of(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry:
        pytest.fail(f"{VECTORS}: {where} has no '{key}'")
    return entry[key]


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def f32(bits: str) -> float:
    return float(struct.unpack(">f", h(bits))[0])


def f32_hex(value: float) -> str:
    return struct.pack(">f", value).hex()


def u64(text: str) -> int:
    assert isinstance(text, str), f"u64 values are decimal strings, got {text!r}"
    return int(text)


# ---- record fields <-> bodies


def body_from_fields(kind: str, f: dict[str, Any]) -> RecordBody:
    if kind == "register":
        return Register(f["name"])
    if kind == "transfer":
        return Transfer(h(f["to"]), u64(f["amount"]))
    if kind == "contribution":
        c = f["compression"]
        return Contribution(
            u64(f["base_window"]),
            h(f["blob"]),
            u64(f["blob_size"]),
            CompressionParameters(c["chunk_size"], c["top_k"], c["value_bits"], c["index_bits"]),
            h(f["assignment"]),
            f["inner_steps"],
        )
    if kind == "evaluation":
        return Evaluation(
            h(f["contribution"]),
            LossPair(f32(f["own"]["before"]), f32(f["own"]["after"])),
            LossPair(f32(f["random"]["before"]), f32(f["random"]["after"])),
            h(f["sim_hash"]),
            f["flags"],
            h(f["salt"]),
        )
    if kind == "evaluation_commit":
        return EvaluationCommit(h(f["contribution"]), h(f["commitment"]))
    if kind == "checkpoint_vote":
        return CheckpointVote(u64(f["window"]), h(f["sequence_hash"]), h(f["state_root"]), h(f["model_hash"]))
    pytest.fail(f"unknown record kind '{kind}' in {VECTORS}")


def fields_from_body(body: RecordBody) -> tuple[str, dict[str, Any]]:
    if isinstance(body, Register):
        return "register", {"name": body.name}
    if isinstance(body, Transfer):
        return "transfer", {"to": body.to.hex(), "amount": str(body.amount)}
    if isinstance(body, Contribution):
        c = body.compression
        return "contribution", {
            "base_window": str(body.base_window),
            "blob": body.blob.hex(),
            "blob_size": str(body.blob_size),
            "compression": {"chunk_size": c.chunk_size, "top_k": c.top_k, "value_bits": c.value_bits, "index_bits": c.index_bits},
            "assignment": body.assignment.hex(),
            "inner_steps": body.inner_steps,
        }
    if isinstance(body, Evaluation):
        return "evaluation", {
            "contribution": body.contribution.hex(),
            "own": {"before": f32_hex(body.own.before), "after": f32_hex(body.own.after)},
            "random": {"before": f32_hex(body.random.before), "after": f32_hex(body.random.after)},
            "sim_hash": body.sim_hash.hex(),
            "flags": body.flags,
            "salt": body.salt.hex(),
        }
    if isinstance(body, EvaluationCommit):
        return "evaluation_commit", {"contribution": body.contribution.hex(), "commitment": body.commitment.hex()}
    assert isinstance(body, CheckpointVote)
    return "checkpoint_vote", {
        "window": str(body.window),
        "sequence_hash": body.sequence_hash.hex(),
        "state_root": body.state_root.hex(),
        "model_hash": body.model_hash.hex(),
    }


# ---- tests


def test_hashing() -> None:
    for n, entry in enumerate(section("hashing")):
        where = f"hashing[{n}]"
        tag, data, expected = (key_of(entry, k, where) for k in ("tag", "data", "digest"))
        assert digest(tag, h(data)).hex() == expected, where


def test_records() -> None:
    kinds = set()
    for n, entry in enumerate(section("records")):
        where = f"records[{n}]"
        kind, fields, body = (key_of(entry, k, where) for k in ("kind", "fields", "body"))
        kinds.add(kind)
        assert encode_body(body_from_fields(kind, fields)).hex() == body, f"{where} ({kind}): encode(fields) != body"
        assert fields_from_body(decode_body(h(body))) == (kind, fields), f"{where} ({kind}): decode(body) != fields"
    missing = {"register", "transfer", "contribution", "evaluation", "evaluation_commit", "checkpoint_vote"} - kinds
    assert not missing, f"{VECTORS} has no record vector of kind {sorted(missing)}"


def test_signed_records() -> None:
    for n, entry in enumerate(section("signed")):
        where = f"signed[{n}]"
        seed, public, chain, nonce, body, sign_bytes, signature, record, rid = (
            key_of(entry, k, where)
            for k in ("seed", "public_key", "chain", "nonce", "body", "signing_bytes", "signature", "record", "id")
        )
        key = SigningKey.from_seed(h(seed))
        assert key.public_key.hex() == public, f"{where}: public key from seed"
        assert signing_bytes(h(chain), key.public_key, u64(nonce), h(body)).hex() == sign_bytes, f"{where}: signing bytes"
        assert key.sign(h(sign_bytes)).hex() == signature, f"{where}: signature"
        assert verify_signature(key.public_key, h(signature), h(sign_bytes)), where
        signed = SignedRecord(key.public_key, u64(nonce), h(body), h(signature))
        assert signed.encode().hex() == record, f"{where}: SignedRecord encoding"
        assert SignedRecord.decode(h(record)) == signed, f"{where}: SignedRecord decoding"
        assert signed.verify(h(chain)), where
        assert record_id(h(record)).hex() == rid and signed.id.hex() == rid, f"{where}: record id"


def test_framing() -> None:
    framing = section("framing")
    records = [h(r) for r in key_of(framing, "records", "framing")]
    frame = key_of(framing, "frame", "framing")
    assert frame_records(records).hex() == frame
    assert split_frame(h(frame)) == records


def test_blob_upload() -> None:
    upload = section("blob_upload")
    chain, seed, trainer, blob, time_ms, sign_bytes, signature = (
        key_of(upload, k, "blob_upload")
        for k in ("chain", "trainer_seed", "trainer", "blob_id", "time_ms", "signing_bytes", "signature")
    )
    key = SigningKey.from_seed(h(seed))
    assert key.public_key.hex() == trainer
    assert blob_upload_signing_bytes(h(chain), key.public_key, h(blob), u64(time_ms)).hex() == sign_bytes
    assert key.sign(h(sign_bytes)).hex() == signature


def test_pseudo_gradients() -> None:
    for n, entry in enumerate(section("pseudo_gradient")):
        where = f"pseudo_gradient[{n}]"
        pc, cs, tk, blob, dense, norm = (
            key_of(entry, k, where) for k in ("parameter_count", "chunk_size", "top_k", "blob", "dense_f32", "l2_norm")
        )
        pg = decode(h(blob), pc, cs, tk)
        assert pg.dense().astype("<f4").tobytes().hex() == dense, f"{where}: dense values"
        assert struct.pack(">d", pg.l2_norm()).hex() == norm, f"{where}: L2 norm bits"
        assert encode(pg, tk).hex() == blob, f"{where}: re-encoding"
        assert blob_id(h(blob)) == digest(0x03, h(blob))


def test_bad_pseudo_gradients() -> None:
    for n, entry in enumerate(section("bad_pseudo_gradients")):
        where = f"bad_pseudo_gradients[{n}]"
        pc, cs, tk, blob, field, offset = (
            key_of(entry, k, where) for k in ("parameter_count", "chunk_size", "top_k", "blob", "field", "offset")
        )
        with pytest.raises(BlobError) as caught:
            decode(h(blob), pc, cs, tk)
        assert (caught.value.field, caught.value.offset) == (field, offset), f"{where}: {caught.value}"


def _spec(value: dict[str, Any]) -> ModelSpec:
    return ModelSpec.from_json(value)


def test_model_blob() -> None:
    model = section("model_blob")
    name, spec, parameters, blob, expected_hash = (
        key_of(model, k, "model_blob") for k in ("name", "spec", "parameters_f32", "blob", "hash")
    )
    values = np.frombuffer(h(parameters), dtype="<f4").astype(np.float32)
    assert encode_model(values, name, _spec(spec)).hex() == blob
    assert decode_model(h(blob), name, _spec(spec)).astype("<f4").tobytes().hex() == parameters
    assert model_hash(h(blob)).hex() == expected_hash


def test_bad_model_blobs() -> None:
    for n, entry in enumerate(section("bad_model_blobs")):
        where = f"bad_model_blobs[{n}]"
        name, spec, blob, field, offset = (key_of(entry, k, where) for k in ("name", "spec", "blob", "field", "offset"))
        with pytest.raises(BlobError) as caught:
            decode_model(h(blob), name, _spec(spec))
        assert (caught.value.field, caught.value.offset) == (field, offset), f"{where}: {caught.value}"


def test_trainer_state() -> None:
    states = section("trainer_state")
    assert {s.get("last_window") is None for s in states} == {True, False}, "vectors must cover a state with and without a window"
    for i, state in enumerate(states):
        last, residual, blob = (key_of(state, k, f"trainer_state[{i}]") for k in ("last_window", "residual_f32", "blob"))
        values = np.frombuffer(h(residual), dtype="<f4").astype(np.float32)
        expected = TrainerState(None if last is None else u64(last), values)
        assert expected.encode().hex() == blob
        assert TrainerState.decode(h(blob), values.size) == expected

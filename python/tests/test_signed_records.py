"""Signed records: signing bytes, Ed25519 signatures, the record id, decoding refusals, framing."""

from __future__ import annotations

import hashlib

import pytest
from conftest import CHAIN, RFC8032_EMPTY_SIGNATURE, RFC8032_PUBLIC, RFC8032_SEED

from cairn_client.keys import SigningKey, verify_signature
from cairn_client.records import (
    MAX_BODY_BYTES,
    FramingError,
    Register,
    SignedRecord,
    Transfer,
    decode_body,
    encode_body,
    frame_records,
    record_id,
    sign_record,
    signing_bytes,
    split_frame,
)
from cairn_client.wire import CodecError


def test_pynacl_is_libsodium_ed25519() -> None:
    key = SigningKey.from_seed(RFC8032_SEED)
    assert key.public_key == RFC8032_PUBLIC
    assert key.sign(b"") == RFC8032_EMPTY_SIGNATURE
    assert verify_signature(RFC8032_PUBLIC, RFC8032_EMPTY_SIGNATURE, b"")


def test_signing_bytes_layout(key: SigningKey) -> None:
    body = encode_body(Register("abc"))
    expected = b"\x02" + CHAIN + key.public_key + (42).to_bytes(8, "big") + len(body).to_bytes(4, "big") + body
    assert signing_bytes(CHAIN, key.public_key, 42, body) == expected


def test_sign_record_verifies_and_encodes(key: SigningKey) -> None:
    body = Transfer(bytes(32), 10)
    record = sign_record(body, key, CHAIN, 3)
    encoded = encode_body(body)
    assert record.body == encoded
    assert record.verify(CHAIN)
    assert verify_signature(key.public_key, record.signature, signing_bytes(CHAIN, key.public_key, 3, encoded))
    assert record.encode() == (
        b"\x01" + key.public_key + (3).to_bytes(8, "big") + len(encoded).to_bytes(4, "big") + encoded + record.signature
    )
    assert SignedRecord.decode(record.encode()) == record
    assert record.decoded_body() == body


def test_record_id_is_tagged_hash_of_the_encoded_record(key: SigningKey) -> None:
    record = sign_record(Register("abc"), key, CHAIN, 0)
    assert record.id == hashlib.sha256(b"\x02" + record.encode()).digest()
    assert record.id == record_id(record.encode())
    assert record.id_hex == record.id.hex()


def test_signature_binds_chain_nonce_body_and_author(key: SigningKey, other_key: SigningKey) -> None:
    record = sign_record(Register("abc"), key, CHAIN, 1)
    assert not record.verify(bytes(32))
    assert not SignedRecord(record.author, 2, record.body, record.signature).verify(CHAIN)
    assert not SignedRecord(record.author, 1, encode_body(Register("abd")), record.signature).verify(CHAIN)
    assert not SignedRecord(other_key.public_key, 1, record.body, record.signature).verify(CHAIN)
    flipped = bytes([record.signature[0] ^ 1]) + record.signature[1:]
    assert not SignedRecord(record.author, 1, record.body, flipped).verify(CHAIN)


def test_verify_signature_never_raises_on_malformed_input() -> None:
    assert not verify_signature(b"\x00" * 31, bytes(64), b"")
    assert not verify_signature(bytes(32), bytes(63), b"")
    assert not verify_signature(b"\xff" * 32, b"\xff" * 64, b"x")


def test_signed_record_refuses_oversized_body(key: SigningKey) -> None:
    with pytest.raises(ValueError):
        SignedRecord(key.public_key, 0, bytes(MAX_BODY_BYTES + 1), bytes(64))
    with pytest.raises(ValueError):
        SignedRecord(key.public_key, 2**64, b"", bytes(64))


def _record(body: bytes = b"\x02\x01\x00\x00\x00\x01a") -> bytes:
    return b"\x01" + bytes(32) + bytes(8) + len(body).to_bytes(4, "big") + body + bytes(64)


SIGNED_REFUSALS = [
    ("empty", b"", ("SignedRecord",), 0, "needs 1 more"),
    ("version 2", b"\x02" + _record()[1:], ("SignedRecord",), 0, "version 2 is not supported"),
    ("short author", b"\x01" + bytes(31), ("SignedRecord", "author"), 1, "needs 32 more"),
    ("short nonce", b"\x01" + bytes(32) + bytes(7), ("SignedRecord", "nonce"), 33, "needs 8 more"),
    (
        "body over 64 KiB",
        b"\x01" + bytes(40) + (MAX_BODY_BYTES + 1).to_bytes(4, "big") + bytes(10),
        ("SignedRecord", "body"),
        41,
        "length 65537 exceeds the limit of 65536",
    ),
    (
        "truncated body",
        b"\x01" + bytes(40) + (9).to_bytes(4, "big") + bytes(3),
        ("SignedRecord", "body"),
        45,
        "needs 9 more bytes but only 3 remain",
    ),
    ("short signature", _record()[:-1], ("SignedRecord", "signature"), 52, "needs 64 more bytes but only 63 remain"),
    ("trailing", _record() + b"\x00", (), 116, "1 unexpected bytes"),
]


@pytest.mark.parametrize("data,path,offset,words", [r[1:] for r in SIGNED_REFUSALS], ids=[r[0] for r in SIGNED_REFUSALS])
def test_signed_record_refusal(data: bytes, path: tuple[str, ...], offset: int, words: str) -> None:
    with pytest.raises(CodecError) as caught:
        SignedRecord.decode(data)
    assert caught.value.path == path
    assert caught.value.offset == offset
    assert words in caught.value.reason


def test_envelope_decode_does_not_judge_the_body() -> None:
    # The node checks the envelope at intake; a bad body is the ledger's `malformed` rejection.
    record = SignedRecord.decode(_record(b"\x09"))
    with pytest.raises(CodecError):
        decode_body(record.body)


# ---- framing


def test_frame_and_split_round_trip() -> None:
    records = [b"\x01\x02", b"\x03", bytes(300)]
    frame = frame_records(records)
    assert frame == b"\x00\x00\x00\x02\x01\x02\x00\x00\x00\x01\x03\x00\x00\x01\x2c" + bytes(300)
    assert split_frame(frame) == records


@pytest.mark.parametrize(
    "records,words",
    [
        ([], "no records"),
        ([b""], "record 0 has length 0"),
        ([b"x"] * 1001, "at most 1000 per submission"),
        ([bytes(200_000), bytes(100_000)], "the node reads at most 262144"),
    ],
)
def test_frame_refuses_what_the_node_refuses(records: list[bytes], words: str) -> None:
    with pytest.raises(FramingError, match=words):
        frame_records(records)


@pytest.mark.parametrize(
    "body,words",
    [
        (b"", "no records"),
        (b"\x00\x00\x00", "the body ends inside a 4-byte length prefix at byte 0"),
        (b"\x00\x00\x00\x01a\x00", "the body ends inside a 4-byte length prefix at byte 5"),
        (b"\x00\x00\x00\x00", "record 0 has length 0; lengths must be in 1…262144"),
        (b"\x00\x04\x00\x01" + bytes(10), "record 0 has length 262145"),
        (b"\x00\x00\x00\x01a\x00\x00\x00\x05abc", "record 1 claims 5 bytes but only 3 remain"),
        (b"\x00\x00\x00\x01a" * 1001, "more than 1000 records in one submission"),
    ],
)
def test_split_frame_refusals(body: bytes, words: str) -> None:
    with pytest.raises(FramingError, match=words):
        split_frame(body)

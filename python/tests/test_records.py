"""Record bodies: round trips, and every refusal of the decoder with the node's path and offset."""

from __future__ import annotations

import pytest

from cairn_client.records import (
    CheckpointVote,
    CompressionParameters,
    Contribution,
    Evaluation,
    EvaluationCommit,
    EvaluationFlags,
    LossPair,
    RecordKind,
    Register,
    Transfer,
    assignment_digest,
    decode_body,
    encode_body,
)
from cairn_client.wire import CodecError, DomainTag, digest

D1, D2, D3 = bytes([1]) * 32, bytes([2]) * 32, bytes([3]) * 32
KEY = bytes(range(32))

BODIES = [
    Register("trainer-1"),
    Transfer(KEY, 123_456_789_012),
    Contribution(7, D1, 4654, CompressionParameters(4096, 512, 8, 16), D2, 1000),
    Evaluation(D1, LossPair(5.5, 5.25), LossPair(5.5, 5.375), bytes(range(32)), 0, D3),
    Evaluation(D1, LossPair(1.0, 2.0), LossPair(0.5, 0.25), b"", int(EvaluationFlags.INVALID_BLOB | EvaluationFlags.UNAVAILABLE)),
    CheckpointVote(2**64 - 1, D1, D2, D3),
    EvaluationCommit(D1, D2),
]


@pytest.mark.parametrize("body", BODIES, ids=lambda b: type(b).__name__)
def test_round_trip(body: object) -> None:
    encoded = encode_body(body)  # type: ignore[arg-type]
    assert encoded[0] == 2 and encoded[1] == int(body.kind)  # type: ignore[attr-defined]
    assert decode_body(encoded) == body
    assert body.encode() == encoded  # type: ignore[attr-defined]


def test_register_bytes() -> None:
    assert encode_body(Register("ab-1")) == b"\x02\x01\x00\x00\x00\x04ab-1"


def test_transfer_bytes() -> None:
    assert encode_body(Transfer(KEY, 5)) == b"\x02\x02" + KEY + (5).to_bytes(8, "big")


def test_contribution_bytes() -> None:
    body = Contribution(1, D1, 2, CompressionParameters(4096, 512), D2, 3)
    assert encode_body(body) == (
        b"\x02\x03"
        + (1).to_bytes(8, "big")
        + D1
        + (2).to_bytes(8, "big")
        + (4096).to_bytes(4, "big")
        + (512).to_bytes(4, "big")
        + b"\x08\x10"
        + D2
        + (3).to_bytes(4, "big")
    )


def test_evaluation_bytes() -> None:
    body = Evaluation(D1, LossPair(1.0, 2.0), LossPair(0.5, -0.5), b"\xab", 4, D3)
    assert encode_body(body) == (
        b"\x02\x04"
        + D1
        + bytes.fromhex("3f800000 40000000 3f000000 bf000000".replace(" ", ""))
        + b"\x00\x00\x00\x01\xab"
        + b"\x00\x00\x00\x04"
        + D3
    )


def test_kind_names_are_the_nodes() -> None:
    assert [k.wire_name for k in RecordKind] == [
        "register",
        "transfer",
        "contribution",
        "evaluation",
        "checkpoint_vote",
        "evaluation_commit",
    ]


def test_assignment_digest() -> None:
    assert assignment_digest(D1, KEY) == digest(DomainTag.TRAINING, D1 + KEY)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Register("Trainer"),
        lambda: Register(""),
        lambda: Register("a" * 33),
        lambda: Transfer(b"\x00" * 31, 1),
        lambda: Transfer(KEY, 2**64),
        lambda: Contribution(-1, D1, 1, CompressionParameters(1, 1), D2),
        lambda: LossPair(0.1, 1.0),
        lambda: LossPair(float("nan"), 1.0),
        lambda: Evaluation(D1, LossPair(1, 1), LossPair(1, 1), bytes(129), 0),
        lambda: Evaluation(D1, LossPair(1, 1), LossPair(1, 1), b"", 16),
        lambda: CheckpointVote(0, D1, D2, b"short"),
    ],
)
def test_constructors_refuse_what_the_node_refuses(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


# ---- every refusal of decode_body: (bytes, path, offset, words in the reason)


def _evaluation_prefix() -> bytes:
    return b"\x02\x04" + D1 + bytes.fromhex("3f800000" * 4)


REFUSALS = [
    ("empty", b"", ("RecordBody",), 0, "needs 1 more bytes"),
    ("version 1", b"\x01\x01\x00\x00\x00\x01a", ("RecordBody",), 0, "version 1 is not supported"),
    ("version 3", b"\x03\x01", ("RecordBody",), 0, "version 3 is not supported"),
    ("no kind", b"\x02", ("RecordBody",), 1, "needs 1 more bytes"),
    # The node reports an unknown kind after reading its byte.
    ("kind 0", b"\x02\x00", ("RecordBody",), 2, "unknown tag 0"),
    ("kind 7", b"\x02\x07" + bytes(40), ("RecordBody",), 2, "unknown tag 7"),
    ("register uppercase", b"\x02\x01\x00\x00\x00\x02Ab", ("RecordBody", "register"), 2, "[a-z0-9-]"),
    ("register empty", b"\x02\x01\x00\x00\x00\x00", ("RecordBody", "register"), 2, "[a-z0-9-]"),
    ("register space", b"\x02\x01\x00\x00\x00\x02a ", ("RecordBody", "register"), 2, "[a-z0-9-]"),
    (
        "register 33 bytes",
        b"\x02\x01\x00\x00\x00\x21" + b"a" * 33,
        ("RecordBody", "register", "name"),
        2,
        "length 33 exceeds the limit of 32",
    ),
    ("register not UTF-8", b"\x02\x01\x00\x00\x00\x01\xff", ("RecordBody", "register", "name"), 2, "not valid UTF-8"),
    ("register truncated name", b"\x02\x01\x00\x00\x00\x05ab", ("RecordBody", "register", "name"), 6, "needs 5 more"),
    ("transfer short key", b"\x02\x02" + bytes(20), ("RecordBody", "transfer", "to"), 2, "needs 32 more"),
    ("transfer no amount", b"\x02\x02" + KEY + bytes(7), ("RecordBody", "transfer", "amount"), 34, "needs 8 more"),
    # A digest is read as four u64 words: the error is at the word that ran out.
    (
        "contribution short blob",
        b"\x02\x03" + bytes(8) + bytes(10),
        ("RecordBody", "contribution", "blob"),
        18,
        "needs 8 more bytes but only 2 remain",
    ),
    (
        "contribution short compression",
        b"\x02\x03" + bytes(8 + 32 + 8 + 4 + 2),
        ("RecordBody", "contribution", "compression", "top_k"),
        54,
        "needs 4 more",
    ),
    (
        "contribution no index_bits",
        b"\x02\x03" + bytes(8 + 32 + 8 + 8 + 1),
        ("RecordBody", "contribution", "compression", "index_bits"),
        59,
        "needs 1 more",
    ),
    (
        "contribution no inner_steps",
        b"\x02\x03" + bytes(8 + 32 + 8 + 10 + 32 + 2),
        ("RecordBody", "contribution", "inner_steps"),
        92,
        "needs 4 more",
    ),
    (
        "evaluation NaN own.before",
        b"\x02\x04" + D1 + bytes.fromhex("7fc00000") + bytes(100),
        ("RecordBody", "evaluation", "own", "before"),
        34,
        "NaN or infinite",
    ),
    (
        "evaluation inf random.after",
        b"\x02\x04" + D1 + bytes.fromhex("3f800000" * 3 + "ff800000") + bytes(100),
        ("RecordBody", "evaluation", "random", "after"),
        46,
        "NaN or infinite",
    ),
    (
        "evaluation sim_hash 129 bytes",
        _evaluation_prefix() + (129).to_bytes(4, "big") + bytes(129 + 36),
        ("RecordBody", "evaluation", "sim_hash"),
        50,
        "length 129 exceeds the limit of 128",
    ),
    (
        "evaluation sim_hash truncated",
        _evaluation_prefix() + (10).to_bytes(4, "big") + bytes(5),
        ("RecordBody", "evaluation", "sim_hash"),
        54,
        "needs 10 more bytes but only 5 remain",
    ),
    # Raised outside field("flags"): the path ends at `evaluation`, the offset is the flags'.
    (
        "evaluation unknown flags",
        _evaluation_prefix() + b"\x00\x00\x00\x00" + (16).to_bytes(4, "big") + D3,
        ("RecordBody", "evaluation"),
        54,
        "unknown evaluation flag bits",
    ),
    (
        "evaluation high flag bit",
        _evaluation_prefix() + b"\x00\x00\x00\x00" + (1 << 31).to_bytes(4, "big") + D3,
        ("RecordBody", "evaluation"),
        54,
        "unknown evaluation flag bits",
    ),
    (
        "evaluation no salt",
        _evaluation_prefix() + b"\x00\x00\x00\x00" + bytes(4) + bytes(31),
        ("RecordBody", "evaluation", "salt"),
        82,
        "needs 8 more bytes but only 7 remain",
    ),
    (
        "checkpoint_vote short",
        b"\x02\x05" + bytes(8 + 32 + 32 + 31),
        ("RecordBody", "checkpoint_vote", "model_hash"),
        98,
        "needs 8 more bytes but only 7 remain",
    ),
    (
        "evaluation_commit short",
        b"\x02\x06" + D1 + bytes(3),
        ("RecordBody", "evaluation_commit", "commitment"),
        34,
        "needs 8 more bytes but only 3 remain",
    ),
    # Trailing bytes are found after the value, outside every field.
    ("trailing byte", encode_body(Register("ok")) + b"\x00", (), 8, "1 unexpected bytes after the value"),
    ("trailing after commit", encode_body(EvaluationCommit(D1, D2)) + b"xy", (), 66, "2 unexpected bytes"),
]


@pytest.mark.parametrize("data,path,offset,words", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_decode_body_refusal(data: bytes, path: tuple[str, ...], offset: int, words: str) -> None:
    with pytest.raises(CodecError) as caught:
        decode_body(data)
    assert caught.value.path == path
    assert caught.value.offset == offset
    assert words in caught.value.reason


def test_error_message_names_the_field() -> None:
    with pytest.raises(CodecError) as caught:
        decode_body(b"\x02\x02" + KEY + bytes(7))
    assert str(caught.value) == (
        "malformed encoding at byte 34 in RecordBody.transfer.amount: needs 8 more bytes but only 7 remain"
    )


def test_every_known_flag_decodes() -> None:
    for flags in range(16):
        body = Evaluation(D1, LossPair(1, 1), LossPair(1, 1), b"", flags)
        assert decode_body(encode_body(body)).flags == flags  # type: ignore[union-attr]

"""Record bodies and signed records (Sources/CairnCore/RecordBody.swift, SignedRecord.swift).

A record body is a version byte (2), a kind byte, then the kind's fields in the canonical encoding
(`wire`). A `SignedRecord` wraps a body with its author, nonce and Ed25519 signature over
``0x02 ‖ chain ‖ author ‖ nonce ‖ u32 length ‖ body``, so a record cannot be replayed on another
chain. A record's id is SHA-256(0x02 ‖ the SignedRecord's canonical bytes): the same tag byte as
the signing bytes, but over the encoded record, signature included.

Decoders accept exactly what the node accepts: `decode_body` refuses an unknown kind, another
version, an invalid register name, unknown evaluation flag bits, a SimHash over 128 bytes, a
non-finite loss and trailing bytes, each as a `CodecError` with the node's field path and offset.
Constructors refuse the same values, so nothing built here encodes to bytes the node would refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Any, ClassVar

from .framing import FramingError, frame_records, split_frame
from .keys import SigningKey, verify_signature
from .wire import (
    DIGEST_BYTES,
    PUBLIC_KEY_BYTES,
    SIGNATURE_BYTES,
    CanonicalReader,
    CanonicalWriter,
    CodecError,
    DomainTag,
    check_bytes,
    check_uint,
    digest,
    is_f32,
)

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_REGISTER_NAME_BYTES",
    "MAX_SIM_HASH_BYTES",
    "RECORD_BODY_VERSION",
    "SIGNED_RECORD_VERSION",
    "CheckpointVote",
    "CodecError",
    "CompressionParameters",
    "Contribution",
    "Evaluation",
    "EvaluationCommit",
    "EvaluationFlags",
    "FramingError",
    "LossPair",
    "RecordBody",
    "RecordKind",
    "Register",
    "SignedRecord",
    "Transfer",
    "assignment_digest",
    "decode_body",
    "encode_body",
    "frame_records",
    "record_id",
    "sign_record",
    "signing_bytes",
    "split_frame",
    "valid_register_name",
]

RECORD_BODY_VERSION = 2
"""2: evaluations carry the salt of their commitment, and `evaluation_commit` exists (D47)."""

SIGNED_RECORD_VERSION = 1
MAX_BODY_BYTES = 64 * 1024
MAX_REGISTER_NAME_BYTES = 32
MAX_SIM_HASH_BYTES = 128
"""Longest SimHash accepted: 1024 bits."""

_ZERO_DIGEST = bytes(DIGEST_BYTES)
_REGISTER_NAME = re.compile(r"[a-z0-9-]{1,32}")


class RecordKind(IntEnum):
    REGISTER = 1
    TRANSFER = 2
    CONTRIBUTION = 3
    EVALUATION = 4
    CHECKPOINT_VOTE = 5
    EVALUATION_COMMIT = 6

    @property
    def wire_name(self) -> str:
        """The kind's name in the node's messages and JSON (``checkpoint_vote``)."""
        return self.name.lower()


def _digest_field(value: object, what: str) -> bytes:
    return check_bytes(value, DIGEST_BYTES, what)


# --------------------------------------------------------------------------------------------
# Bodies


def valid_register_name(name: str) -> bool:
    """1–32 bytes of [a-z0-9-]."""
    return isinstance(name, str) and _REGISTER_NAME.fullmatch(name) is not None


@dataclass(frozen=True)
class Register:
    """A trainer registers its key (the record's author) and pays genesis' registration fee."""

    name: str
    kind: ClassVar[RecordKind] = RecordKind.REGISTER

    def __post_init__(self) -> None:
        if not valid_register_name(self.name):
            raise ValueError(f"register name {self.name!r} must be 1–32 bytes of [a-z0-9-]")

    def _write(self, w: CanonicalWriter) -> None:
        w.string(self.name, MAX_REGISTER_NAME_BYTES, "name")

    @classmethod
    def _read(cls, r: CanonicalReader) -> Register:
        start = r.offset
        with r.field("name"):
            name = r.string(MAX_REGISTER_NAME_BYTES)
        if not valid_register_name(name):
            raise r.fail("name must be 1–32 bytes of [a-z0-9-]", at=start)
        return cls(name)

    def encode(self) -> bytes:
        return encode_body(self)


@dataclass(frozen=True)
class Transfer:
    """Moves `amount` base units from the author's account to `to`."""

    to: bytes
    amount: int
    kind: ClassVar[RecordKind] = RecordKind.TRANSFER

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", check_bytes(self.to, PUBLIC_KEY_BYTES, "transfer.to"))
        check_uint(self.amount, 64, "transfer.amount")

    def _write(self, w: CanonicalWriter) -> None:
        w.fixed(self.to, PUBLIC_KEY_BYTES)
        w.u64(self.amount)

    @classmethod
    def _read(cls, r: CanonicalReader) -> Transfer:
        with r.field("to"):
            to = r.fixed(PUBLIC_KEY_BYTES)
        with r.field("amount"):
            amount = r.u64()
        return cls(to, amount)

    def encode(self) -> bytes:
        return encode_body(self)


@dataclass(frozen=True)
class CompressionParameters:
    """How a pseudo-gradient blob is compressed: per chunk of `chunk_size` keep the `top_k` largest,
    values quantised to `value_bits`, indices as `index_bits`-bit integers. `cairn submit` sends
    value_bits 8 and index_bits 16, the only blob format there is."""

    chunk_size: int
    top_k: int
    value_bits: int = 8
    index_bits: int = 16

    def __post_init__(self) -> None:
        check_uint(self.chunk_size, 32, "compression.chunk_size")
        check_uint(self.top_k, 32, "compression.top_k")
        check_uint(self.value_bits, 8, "compression.value_bits")
        check_uint(self.index_bits, 8, "compression.index_bits")

    def _write(self, w: CanonicalWriter) -> None:
        w.u32(self.chunk_size)
        w.u32(self.top_k)
        w.u8(self.value_bits)
        w.u8(self.index_bits)

    @classmethod
    def _read(cls, r: CanonicalReader) -> CompressionParameters:
        with r.field("chunk_size"):
            chunk_size = r.u32()
        with r.field("top_k"):
            top_k = r.u32()
        with r.field("value_bits"):
            value_bits = r.u8()
        with r.field("index_bits"):
            index_bits = r.u8()
        return cls(chunk_size, top_k, value_bits, index_bits)


@dataclass(frozen=True)
class Contribution:
    """A trainer's pseudo-gradient for window `base_window`'s model, uploaded as a blob.

    `blob` is the blob id (SHA-256 over 0x03 ‖ bytes) and `blob_size` its length; `assignment` the
    digest of the data assignment trained on (`assignment_digest`); `inner_steps` the inner steps
    taken, 1…genesis max_inner_steps.
    """

    base_window: int
    blob: bytes
    blob_size: int
    compression: CompressionParameters
    assignment: bytes
    inner_steps: int = 1
    kind: ClassVar[RecordKind] = RecordKind.CONTRIBUTION

    def __post_init__(self) -> None:
        check_uint(self.base_window, 64, "contribution.base_window")
        object.__setattr__(self, "blob", _digest_field(self.blob, "contribution.blob"))
        check_uint(self.blob_size, 64, "contribution.blob_size")
        if not isinstance(self.compression, CompressionParameters):
            raise ValueError("contribution.compression must be CompressionParameters")
        object.__setattr__(self, "assignment", _digest_field(self.assignment, "contribution.assignment"))
        check_uint(self.inner_steps, 32, "contribution.inner_steps")

    def _write(self, w: CanonicalWriter) -> None:
        w.u64(self.base_window)
        w.fixed(self.blob, DIGEST_BYTES)
        w.u64(self.blob_size)
        self.compression._write(w)
        w.fixed(self.assignment, DIGEST_BYTES)
        w.u32(self.inner_steps)

    @classmethod
    def _read(cls, r: CanonicalReader) -> Contribution:
        with r.field("base_window"):
            base_window = r.u64()
        with r.field("blob"):
            blob = r.digest()
        with r.field("blob_size"):
            blob_size = r.u64()
        with r.field("compression"):
            compression = CompressionParameters._read(r)
        with r.field("assignment"):
            assignment = r.digest()
        with r.field("inner_steps"):
            inner_steps = r.u32()
        return cls(base_window, blob, blob_size, compression, assignment, inner_steps)

    def encode(self) -> bytes:
        return encode_body(self)


@dataclass(frozen=True)
class LossPair:
    """Mean cross-entropy before and after applying a contribution: finite float32 values."""

    before: float
    after: float

    def __post_init__(self) -> None:
        for name in ("before", "after"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not is_f32(float(value)):
                raise ValueError(f"loss {name} is {value!r}; it must be a finite float32 (round with wire.round_f32)")
            object.__setattr__(self, name, float(value))

    def _write(self, w: CanonicalWriter) -> None:
        w.f32(self.before, "before")
        w.f32(self.after, "after")

    @classmethod
    def _read(cls, r: CanonicalReader) -> LossPair:
        with r.field("before"):
            before = r.f32()
        with r.field("after"):
            after = r.f32()
        return cls(before, after)


class EvaluationFlags(IntFlag):
    INVALID_BLOB = 1 << 0
    """The blob failed validation (sizes, index ranges, non-finite values)."""
    OUT_OF_SYNC = 1 << 1
    """The contribution's base window was neither the current nor the previous one."""
    NON_FINITE = 1 << 2
    """Losses after applying it were not finite."""
    UNAVAILABLE = 1 << 3
    """The blob could not be fetched."""


_KNOWN_FLAGS = int(
    EvaluationFlags.INVALID_BLOB | EvaluationFlags.OUT_OF_SYNC | EvaluationFlags.NON_FINITE | EvaluationFlags.UNAVAILABLE
)


@dataclass(frozen=True)
class Evaluation:
    """A validator's evaluation (the reveal of an earlier `EvaluationCommit`) of one contribution."""

    contribution: bytes
    own: LossPair
    random: LossPair
    sim_hash: bytes
    flags: int
    salt: bytes = _ZERO_DIGEST
    kind: ClassVar[RecordKind] = RecordKind.EVALUATION

    def __post_init__(self) -> None:
        object.__setattr__(self, "contribution", _digest_field(self.contribution, "evaluation.contribution"))
        if not isinstance(self.own, LossPair) or not isinstance(self.random, LossPair):
            raise ValueError("evaluation.own and evaluation.random must be LossPair")
        if not isinstance(self.sim_hash, (bytes, bytearray, memoryview)):
            raise ValueError("evaluation.sim_hash must be bytes")
        object.__setattr__(self, "sim_hash", bytes(self.sim_hash))
        if len(self.sim_hash) > MAX_SIM_HASH_BYTES:
            raise ValueError(f"evaluation.sim_hash is {len(self.sim_hash)} bytes; at most {MAX_SIM_HASH_BYTES}")
        flags = int(check_uint(self.flags, 32, "evaluation.flags"))
        if flags & ~_KNOWN_FLAGS:
            raise ValueError(f"evaluation.flags {flags:#x} has unknown bits (known: {_KNOWN_FLAGS:#x})")
        object.__setattr__(self, "flags", flags)
        object.__setattr__(self, "salt", _digest_field(self.salt, "evaluation.salt"))

    def _write(self, w: CanonicalWriter) -> None:
        w.fixed(self.contribution, DIGEST_BYTES)
        self.own._write(w)
        self.random._write(w)
        w.byte_string(self.sim_hash, MAX_SIM_HASH_BYTES, "sim_hash")
        w.u32(self.flags)
        w.fixed(self.salt, DIGEST_BYTES)

    @classmethod
    def _read(cls, r: CanonicalReader) -> Evaluation:
        with r.field("contribution"):
            contribution = r.digest()
        with r.field("own"):
            own = LossPair._read(r)
        with r.field("random"):
            random = LossPair._read(r)
        with r.field("sim_hash"):
            sim_hash = r.byte_string(MAX_SIM_HASH_BYTES)
        start = r.offset
        with r.field("flags"):
            flags = r.u32()
        # Raised outside field("flags"), as the node does: its path ends at `evaluation`.
        if flags & ~_KNOWN_FLAGS:
            raise r.fail("unknown evaluation flag bits", at=start)
        with r.field("salt"):
            salt = r.digest()
        return cls(contribution, own, random, sim_hash, flags, salt)

    def encode(self) -> bytes:
        return encode_body(self)


@dataclass(frozen=True)
class EvaluationCommit:
    """A validator's commitment to the evaluation of `contribution` it will reveal later."""

    contribution: bytes
    commitment: bytes
    kind: ClassVar[RecordKind] = RecordKind.EVALUATION_COMMIT

    def __post_init__(self) -> None:
        object.__setattr__(self, "contribution", _digest_field(self.contribution, "evaluation_commit.contribution"))
        object.__setattr__(self, "commitment", _digest_field(self.commitment, "evaluation_commit.commitment"))

    def _write(self, w: CanonicalWriter) -> None:
        w.fixed(self.contribution, DIGEST_BYTES)
        w.fixed(self.commitment, DIGEST_BYTES)

    @classmethod
    def _read(cls, r: CanonicalReader) -> EvaluationCommit:
        with r.field("contribution"):
            contribution = r.digest()
        with r.field("commitment"):
            commitment = r.digest()
        return cls(contribution, commitment)

    def encode(self) -> bytes:
        return encode_body(self)


@dataclass(frozen=True)
class CheckpointVote:
    """A validator's vote on the ledger at the close of `window`."""

    window: int
    sequence_hash: bytes
    state_root: bytes
    model_hash: bytes
    kind: ClassVar[RecordKind] = RecordKind.CHECKPOINT_VOTE

    def __post_init__(self) -> None:
        check_uint(self.window, 64, "checkpoint_vote.window")
        for name in ("sequence_hash", "state_root", "model_hash"):
            object.__setattr__(self, name, _digest_field(getattr(self, name), f"checkpoint_vote.{name}"))

    def _write(self, w: CanonicalWriter) -> None:
        w.u64(self.window)
        w.fixed(self.sequence_hash, DIGEST_BYTES)
        w.fixed(self.state_root, DIGEST_BYTES)
        w.fixed(self.model_hash, DIGEST_BYTES)

    @classmethod
    def _read(cls, r: CanonicalReader) -> CheckpointVote:
        with r.field("window"):
            window = r.u64()
        with r.field("sequence_hash"):
            sequence_hash = r.digest()
        with r.field("state_root"):
            state_root = r.digest()
        with r.field("model_hash"):
            model_hash = r.digest()
        return cls(window, sequence_hash, state_root, model_hash)

    def encode(self) -> bytes:
        return encode_body(self)


RecordBody = Register | Transfer | Contribution | Evaluation | CheckpointVote | EvaluationCommit

_BODY_TYPES: dict[RecordKind, Any] = {
    RecordKind.REGISTER: Register,
    RecordKind.TRANSFER: Transfer,
    RecordKind.CONTRIBUTION: Contribution,
    RecordKind.EVALUATION: Evaluation,
    RecordKind.CHECKPOINT_VOTE: CheckpointVote,
    RecordKind.EVALUATION_COMMIT: EvaluationCommit,
}


def encode_body(body: RecordBody) -> bytes:
    """The body's canonical bytes: version 2, kind byte, fields."""
    if type(body) not in _BODY_TYPES.values():
        raise ValueError(f"not a record body: {type(body).__name__}")
    w = CanonicalWriter()
    w.u8(RECORD_BODY_VERSION)
    w.u8(int(body.kind))
    body._write(w)
    return w.getvalue()


def decode_body(data: bytes) -> RecordBody:
    """Decodes a record body that must span all of `data`; `CodecError` on anything else."""
    r = CanonicalReader(data)
    with r.field("RecordBody"):
        r.expect_version(RECORD_BODY_VERSION)
        tag = r.u8()
        try:
            kind = RecordKind(tag)
        except ValueError:
            # Reported after the tag byte, as the node reports it.
            raise r.fail(f"unknown tag {tag}") from None
        body_type = _BODY_TYPES[kind]
        with r.field(kind.wire_name):
            body: RecordBody = body_type._read(r)
    r.finish()
    return body


def assignment_digest(beacon: bytes, trainer: bytes) -> bytes:
    """The digest a contribution names as its data assignment: SHA-256(0x10 ‖ beacon ‖ trainer),
    with `beacon` from GET /v1/assignment/{trainer} (as `cairn submit` computes it)."""
    return digest(
        DomainTag.TRAINING,
        check_bytes(beacon, DIGEST_BYTES, "assignment beacon") + check_bytes(trainer, PUBLIC_KEY_BYTES, "trainer key"),
    )


# --------------------------------------------------------------------------------------------
# Signed records


def signing_bytes(chain: bytes, author: bytes, nonce: int, body: bytes) -> bytes:
    """What the author signs: 0x02 ‖ chain ‖ author ‖ nonce (u64) ‖ u32 length ‖ body."""
    w = CanonicalWriter()
    w.u8(int(DomainTag.RECORD))
    w.fixed(chain, DIGEST_BYTES, "chain (genesis hash)")
    w.fixed(author, PUBLIC_KEY_BYTES, "author")
    w.u64(nonce, "nonce")
    w.byte_string(body, what="body")
    return w.getvalue()


def record_id(encoded_record: bytes) -> bytes:
    """A record's id: SHA-256(0x02 ‖ the SignedRecord's canonical bytes)."""
    return digest(DomainTag.RECORD, encoded_record)


@dataclass(frozen=True)
class SignedRecord:
    """A record as clients submit it: an author's signed, nonced body (raw body bytes)."""

    author: bytes
    nonce: int
    body: bytes
    signature: bytes
    _encoded: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "author", check_bytes(self.author, PUBLIC_KEY_BYTES, "author"))
        check_uint(self.nonce, 64, "nonce")
        if not isinstance(self.body, (bytes, bytearray, memoryview)):
            raise ValueError("body must be bytes (use encode_body)")
        object.__setattr__(self, "body", bytes(self.body))
        if len(self.body) > MAX_BODY_BYTES:
            raise ValueError(f"body is {len(self.body)} bytes; a record body is at most {MAX_BODY_BYTES}")
        object.__setattr__(self, "signature", check_bytes(self.signature, SIGNATURE_BYTES, "signature"))
        w = CanonicalWriter()
        w.u8(SIGNED_RECORD_VERSION)
        w.fixed(self.author, PUBLIC_KEY_BYTES)
        w.u64(self.nonce)
        w.byte_string(self.body, MAX_BODY_BYTES)
        w.fixed(self.signature, SIGNATURE_BYTES)
        object.__setattr__(self, "_encoded", w.getvalue())

    def encode(self) -> bytes:
        """The canonical bytes: version 1, author, nonce, u32 length ‖ body, signature."""
        return self._encoded

    @property
    def id(self) -> bytes:
        return record_id(self._encoded)

    @property
    def id_hex(self) -> str:
        return self.id.hex()

    def signing_bytes(self, chain: bytes) -> bytes:
        return signing_bytes(chain, self.author, self.nonce, self.body)

    def verify(self, chain: bytes) -> bool:
        """Whether the signature verifies for the author on chain `chain` (the genesis hash)."""
        return verify_signature(self.author, self.signature, self.signing_bytes(chain))

    def decoded_body(self) -> RecordBody:
        """The body decoded (`CodecError` if it is not a canonical record body)."""
        return decode_body(self.body)

    @classmethod
    def decode(cls, data: bytes) -> SignedRecord:
        """Decodes a SignedRecord that must span all of `data`; `CodecError` on anything else.

        Like the node's envelope check, this does not decode the body (see `decoded_body`).
        """
        r = CanonicalReader(data)
        with r.field("SignedRecord"):
            r.expect_version(SIGNED_RECORD_VERSION)
            with r.field("author"):
                author = r.fixed(PUBLIC_KEY_BYTES)
            with r.field("nonce"):
                nonce = r.u64()
            with r.field("body"):
                body = r.byte_string(MAX_BODY_BYTES)
            with r.field("signature"):
                signature = r.fixed(SIGNATURE_BYTES)
        r.finish()
        return cls(author, nonce, body, signature)


def sign_record(body: RecordBody | bytes, key: SigningKey, chain: bytes, nonce: int) -> SignedRecord:
    """Signs `body` (a body value, or its encoded bytes) as `key`'s record number `nonce` on `chain`."""
    encoded = body if isinstance(body, (bytes, bytearray, memoryview)) else encode_body(body)
    message = signing_bytes(chain, key.public_key, nonce, bytes(encoded))
    return SignedRecord(key.public_key, nonce, bytes(encoded), key.sign(message))

"""The canonical encoding's primitives, the domain-separated digest and strict hex."""

from __future__ import annotations

import hashlib
import math

import pytest

from cairn_client.wire import (
    CanonicalReader,
    CanonicalWriter,
    CodecError,
    DomainTag,
    digest,
    from_hex,
    is_f32,
    round_f32,
    to_hex,
)


def test_domain_tags_are_the_protocol_constants() -> None:
    assert DomainTag.RECORD == 0x02
    assert DomainTag.BLOB == 0x03
    assert DomainTag.MODEL == 0x04
    assert DomainTag.TRAINING == 0x10
    assert DomainTag.BLOB_UPLOAD == 0x14
    assert DomainTag.CEREMONY_SHARE == 0x19
    assert len(DomainTag) == 0x19
    assert [int(t) for t in DomainTag] == list(range(1, 0x1A))


def test_digest_is_sha256_of_tag_then_data() -> None:
    assert digest(DomainTag.BLOB, b"abc") == hashlib.sha256(b"\x03abc").digest()
    assert digest(0x04, b"") == hashlib.sha256(b"\x04").digest()
    with pytest.raises(ValueError):
        digest(256, b"")


def test_integers_are_big_endian_fixed_width() -> None:
    w = CanonicalWriter()
    w.u8(1)
    w.u16(0x0203)
    w.u32(0x04050607)
    w.u64(0x08090A0B0C0D0E0F)
    w.boolean(True)
    assert w.getvalue() == bytes(range(1, 16)) + b"\x01"
    r = CanonicalReader(w.getvalue())
    assert (r.u8(), r.u16(), r.u32(), r.u64(), r.boolean()) == (1, 0x0203, 0x04050607, 0x08090A0B0C0D0E0F, True)
    r.finish()


@pytest.mark.parametrize("method,value", [("u8", 256), ("u16", -1), ("u32", 1 << 32), ("u64", 1 << 64), ("u64", True)])
def test_writer_refuses_out_of_range_integers(method: str, value: int) -> None:
    with pytest.raises(ValueError):
        getattr(CanonicalWriter(), method)(value)


def test_byte_strings_and_strings_carry_a_u32_length() -> None:
    w = CanonicalWriter()
    w.byte_string(b"\xaa\xbb")
    w.string("hé")
    assert w.getvalue() == b"\x00\x00\x00\x02\xaa\xbb\x00\x00\x00\x03h\xc3\xa9"
    r = CanonicalReader(w.getvalue())
    assert r.byte_string() == b"\xaa\xbb"
    assert r.string() == "hé"


def test_floats_are_bit_patterns_and_must_be_finite_float32() -> None:
    w = CanonicalWriter()
    w.f32(3.140625)
    w.f64(-2.5)
    assert w.getvalue() == bytes.fromhex("40490000") + bytes.fromhex("c004000000000000")
    with pytest.raises(ValueError):
        CanonicalWriter().f32(0.1)  # not a float32: silently rounding would change a signed value
    with pytest.raises(ValueError):
        CanonicalWriter().f32(math.inf)
    assert is_f32(round_f32(0.1)) and not is_f32(math.nan)
    assert round_f32(1e39) == math.inf


def test_reader_refuses_truncation_with_offset() -> None:
    r = CanonicalReader(b"\x01\x02\x03")
    r.u8()
    with pytest.raises(CodecError) as caught:
        r.u32()
    assert caught.value.offset == 1
    assert "needs 4 more bytes but only 2 remain" in str(caught.value)


def test_reader_refuses_bad_bool_nonfinite_float_and_invalid_utf8() -> None:
    with pytest.raises(CodecError, match="boolean byte is 2"):
        CanonicalReader(b"\x02").boolean()
    with pytest.raises(CodecError, match="NaN or infinite"):
        CanonicalReader(bytes.fromhex("7fc00000")).f32()
    with pytest.raises(CodecError, match="NaN or infinite"):
        CanonicalReader(bytes.fromhex("fff0000000000000")).f64()
    r = CanonicalReader(b"\x00" + bytes.fromhex("7f800000"))
    r.u8()
    with pytest.raises(CodecError) as caught:
        r.f32()
    assert caught.value.offset == 1
    with pytest.raises(CodecError, match="not valid UTF-8") as caught:
        CanonicalReader(b"\x00\x00\x00\x01\xff").string()
    assert caught.value.offset == 0


def test_reader_length_limit_is_checked_before_reading() -> None:
    with pytest.raises(CodecError, match="length 5 exceeds the limit of 4") as caught:
        CanonicalReader(b"\x00\x00\x00\x05abcde").byte_string(max_length=4)
    assert caught.value.offset == 0
    # A huge length on a tiny input fails as truncation, after the 4-byte prefix.
    with pytest.raises(CodecError) as caught:
        CanonicalReader(b"\xff\xff\xff\xff").byte_string()
    assert caught.value.offset == 4


def test_digest_truncation_points_at_the_word_that_ran_out() -> None:
    # Swift reads a Digest as four u64 words.
    r = CanonicalReader(bytes(20))
    with pytest.raises(CodecError) as caught:
        r.digest()
    assert caught.value.offset == 16
    r = CanonicalReader(bytes(20))
    with pytest.raises(CodecError) as caught:
        r.fixed(32)
    assert caught.value.offset == 0


def test_field_paths_nest_like_swift() -> None:
    r = CanonicalReader(b"")
    with pytest.raises(CodecError) as caught:
        with r.field("Genesis"):
            with r.field("validators"):
                with r.field("[2]"):
                    with r.field("name"):
                        r.u8()
    assert caught.value.path == ("Genesis", "validators", "[2]", "name")
    assert caught.value.field == "Genesis.validators[2].name"
    assert str(caught.value) == "malformed encoding at byte 0 in Genesis.validators[2].name: needs 1 more bytes but only 0 remain"


def test_finish_refuses_trailing_bytes_and_version_is_checked() -> None:
    r = CanonicalReader(b"\x01\x02")
    r.expect_version(1)
    with pytest.raises(CodecError, match="1 unexpected bytes after the value") as caught:
        r.finish()
    assert caught.value.offset == 1
    with pytest.raises(CodecError, match="version 3 is not supported"):
        CanonicalReader(b"\x03").expect_version(1)


def test_hex_is_strict() -> None:
    assert to_hex(b"\x00\xff") == "00ff"
    assert from_hex("00FF") == b"\x00\xff"
    for bad in ("0", "zz", "00 ff", " 00", "0x00"):
        with pytest.raises(ValueError):
            from_hex(bad)
    with pytest.raises(ValueError, match="must be 64 hex characters"):
        from_hex("00", 32, "blob id")

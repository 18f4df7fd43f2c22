"""Key files as the node writes and reads them (Sources/CairnCrypto/KeyFiles.swift)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import RFC8032_PUBLIC, RFC8032_SEED

from cairn_client.keys import KeyFileError, SigningKey, read_signing_key, write_signing_key


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


def _document(seed: bytes = RFC8032_SEED, public: bytes = RFC8032_PUBLIC, kind: str = "cairn-ed25519-v1") -> str:
    return json.dumps({"type": kind, "public_key": public.hex(), "seed": seed.hex()})


def test_written_file_is_the_nodes_format(tmp_path: Path) -> None:
    path = tmp_path / "trainer.key"
    write_signing_key(SigningKey.from_seed(RFC8032_SEED), path)
    assert path.read_text() == (
        f'{{\n  "public_key" : "{RFC8032_PUBLIC.hex()}",\n  "seed" : "{RFC8032_SEED.hex()}",\n  "type" : "cairn-ed25519-v1"\n}}\n'
    )
    assert os.stat(path).st_mode & 0o777 == 0o600
    key = read_signing_key(path)
    assert key.public_key == RFC8032_PUBLIC and key.seed == RFC8032_SEED


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "k"
    write_signing_key(SigningKey.generate(), path)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists; refusing to overwrite"):
        write_signing_key(SigningKey.generate(), path)
    assert path.read_bytes() == before


def test_read_accepts_upper_case_hex_and_extra_keys(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "type": "cairn-ed25519-v1",
            "public_key": RFC8032_PUBLIC.hex().upper(),
            "seed": RFC8032_SEED.hex().upper(),
            "comment": "ignored",
        }
    )
    assert read_signing_key(_write(tmp_path / "k", text)).public_key == RFC8032_PUBLIC


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_read_refuses_group_or_other_access(tmp_path: Path, mode: int) -> None:
    path = _write(tmp_path / "k", _document(), mode)
    with pytest.raises(KeyFileError, match=f"has mode {mode:o}, readable by group or others; run `chmod 600"):
        read_signing_key(path)


def test_read_refuses_missing_and_non_regular(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist; create it with `cairn keys init"):
        read_signing_key(tmp_path / "absent")
    directory = tmp_path / "dir"
    directory.mkdir(mode=0o700)
    with pytest.raises(KeyFileError, match="is not a regular file"):
        read_signing_key(directory)


def test_read_refuses_oversized_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "k", " " * (64 * 1024 + 1))
    with pytest.raises(KeyFileError, match="65537 bytes; a key file is under 1 KiB"):
        read_signing_key(path)


@pytest.mark.parametrize(
    "text,words",
    [
        ("not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        (json.dumps({"type": "cairn-ed25519-v1", "seed": RFC8032_SEED.hex()}), "missing key 'public_key'"),
        (json.dumps({"type": 1, "public_key": RFC8032_PUBLIC.hex(), "seed": RFC8032_SEED.hex()}), "type has the wrong type"),
        (_document(kind="cairn-coin-share-v1"), "type is 'cairn-coin-share-v1', expected 'cairn-ed25519-v1'"),
        (_document(public=RFC8032_PUBLIC[:31]), "invalid Ed25519 public key"),
        (
            json.dumps({"type": "cairn-ed25519-v1", "public_key": RFC8032_PUBLIC.hex(), "seed": "abc"}),
            "seed must be 64 hex characters",
        ),
        (_document(public=bytes(32)), "the file is corrupt or was edited"),
    ],
)
def test_read_refuses_bad_contents(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(KeyFileError, match=words) as caught:
        read_signing_key(_write(tmp_path / "k", text))
    assert str(caught.value).startswith(str(tmp_path / "k") + ": ")


def test_repr_never_shows_the_seed() -> None:
    key = SigningKey.from_seed(RFC8032_SEED)
    assert RFC8032_SEED.hex() not in repr(key)
    assert RFC8032_PUBLIC.hex() in repr(key)

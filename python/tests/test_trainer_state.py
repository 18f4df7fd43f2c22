"""Trainer state files (KEY.state), as `cairn submit` writes them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from conftest import blob_header

from cairn_client.blobs import (
    BlobError,
    TrainerState,
    TrainerStateFileError,
    read_trainer_state,
    trainer_state_path,
    write_trainer_state,
)

RESIDUAL = np.array([0.5, -1.25, 0.0], dtype=np.float32)


def _blob(
    last: int = 0xFFFF_FFFF_FFFF_FFFF,
    count: int = 3,
    residual: bytes | None = None,
    magic: bytes = b"CTRS",
    version: int = 1,
    reserved: int = 0,
) -> bytes:
    return (
        blob_header(magic, version, reserved)
        + last.to_bytes(8, "little")
        + count.to_bytes(8, "little")
        + (RESIDUAL.astype("<f4").tobytes() if residual is None else residual)
    )


def test_layout_and_round_trip() -> None:
    state = TrainerState(None, RESIDUAL)
    assert state.encode() == _blob()
    assert TrainerState.decode(_blob(), 3) == state
    seven = TrainerState(7, RESIDUAL)
    assert seven.encode() == _blob(last=7)
    assert TrainerState.decode(seven.encode(), 3) == seven


def test_last_window_none_is_all_ones() -> None:
    with pytest.raises(ValueError):
        TrainerState(0xFFFF_FFFF_FFFF_FFFF, RESIDUAL)


REFUSALS = [
    ("magic", _blob(magic=b"CTRX"), "magic", 0),
    ("version", _blob(version=2), "version", 4),
    ("reserved", _blob(reserved=1), "reserved", 6),
    ("last_window truncated", _blob()[:12], "last_window", 8),
    ("parameter_count truncated", _blob()[:20], "parameter_count", 16),
    ("other model", _blob(count=4), "parameter_count", 16),
    ("short residual", _blob()[:-1], "residual", 24),
    ("long residual", _blob() + b"\x00", "residual", 24),
    ("NaN residual", _blob(residual=RESIDUAL.astype("<f4").tobytes()[:4] + b"\x00\x00\xc0\x7f" + bytes(4)), "residual[1]", 28),
]


@pytest.mark.parametrize("blob,field,offset", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_decode_refusal(blob: bytes, field: str, offset: int) -> None:
    with pytest.raises(BlobError) as caught:
        TrainerState.decode(blob, 3)
    assert (caught.value.field, caught.value.offset) == (field, offset)


def test_files(tmp_path: Path) -> None:
    path = trainer_state_path(tmp_path / "trainer.key")
    assert path == str(tmp_path / "trainer.key") + ".state"
    assert read_trainer_state(path, 3) == TrainerState.empty(3)
    write_trainer_state(path, TrainerState(4, RESIDUAL))
    assert read_trainer_state(path, 3) == TrainerState(4, RESIDUAL)
    write_trainer_state(path, TrainerState(5, RESIDUAL))
    assert read_trainer_state(path, 3).last_window == 5
    assert os.listdir(tmp_path) == ["trainer.key.state"]  # no temporary left behind
    with pytest.raises(TrainerStateFileError, match="belongs to another task or is damaged") as caught:
        read_trainer_state(path, 4)
    assert caught.value.error.field == "parameter_count"

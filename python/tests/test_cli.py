"""`python -m cairn_client`'s refusals before anything is read or sent, and the corpus check."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cairn_client.__main__ import main
from cairn_client.corpus import CorpusError, read_corpus


@pytest.mark.parametrize("argv, words", [
    (["submit", "--node", "http://127.0.0.1:1", "--key", "k", "--threads", "0"], "--threads must be 1…256"),
    (["submit", "--node", "http://127.0.0.1:1", "--key", "k", "--windows", "0"], "--windows must be at least 1"),
    (["submit", "--node", "http://127.0.0.1:1", "--key", "k", "--margin-ms", "3600001"], "--margin-ms must be 0…3600000"),
    (["evaluate", "--node", "http://127.0.0.1:1", "--window", "5", "--to", "4"], "--to must be ≥ --window"),
    (["evaluate", "--node", "http://127.0.0.1:1", "--window", "0", "--to", "10001"], "at most 10000 windows"),
    (["register", "--node", "http://127.0.0.1:1", "--key", "k", "--name", "Upper"], "must be 1–32 bytes of [a-z0-9-]"),
])
def test_arguments_out_of_bounds_exit_before_any_request(argv: list[str], words: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert words in str(exited.value)


@pytest.mark.parametrize("argv", [["bench", "--batch", "0"], ["bench", "--threads", "1,0"], ["bench", "--threads", "x"]])
def test_bench_arguments_are_refused_by_the_parser(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2 and "error: argument" in capsys.readouterr().err


def test_keygen_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "trainer.key"
    path.write_text("keep")
    with pytest.raises(SystemExit, match="refusing to overwrite"):
        main(["keygen", "--out", str(path)])
    assert path.read_text() == "keep"
    fresh = tmp_path / "new.key"
    assert main(["keygen", "--out", str(fresh)]) == 0 and (fresh.stat().st_mode & 0o077) == 0


def test_a_corpus_other_than_genesis_is_refused(tmp_path: Path) -> None:
    text = b"fortune " * 1000
    (tmp_path / "a").write_bytes(text)
    (tmp_path / "b.dat").write_bytes(b"index, skipped")
    good = hashlib.sha256(b"\x0d" + text).digest()
    assert read_corpus(str(tmp_path), good, len(text)) == text
    with pytest.raises(CorpusError, match="does not match genesis"):
        read_corpus(str(tmp_path), bytes(32), len(text))
    with pytest.raises(CorpusError, match="does not match genesis"):
        read_corpus(str(tmp_path), good, len(text) + 1)
    with pytest.raises(CorpusError, match="cannot be read"):
        read_corpus(str(tmp_path / "missing"), good, len(text))
    with pytest.raises(CorpusError, match="exceeds"):
        read_corpus(str(tmp_path), good, (1 << 30) + 1)

"""The genesis task's text, read and checked as ``CorpusText.swift`` reads it: the extension-less
regular files of a directory (no symbolic links, no subdirectories) in byte order of name,
concatenated, refused unless their size and SHA-256(0x0d ‖ bytes) match genesis."""

from __future__ import annotations

import os
import stat

from .wire import DomainTag, digest

DEFAULT_DIRECTORY = "/usr/share/games/fortunes"
MAX_BYTES = 1 << 30


class CorpusError(Exception):
    pass


def corpus_files(directory: str) -> list[str]:
    try:
        names = os.listdir(directory)
    except OSError as error:
        raise CorpusError(f"corpus directory {directory} cannot be read ({error.strerror}); install Debian's fortunes "
                          "package (tools/setup does) or pass --corpus DIR") from None
    files = []
    # Byte order of the names as the file system holds them (os.fsencode keeps undecodable bytes).
    for name in sorted((n for n in names if "." not in n), key=os.fsencode):
        path = os.path.join(directory, name)
        try:
            if stat.S_ISREG(os.lstat(path).st_mode):
                files.append(path)
        except OSError:
            continue
    if not files:
        raise CorpusError(f"corpus directory {directory} holds no extension-less text files")
    return files


def corpus_digest(data: bytes) -> bytes:
    return digest(DomainTag.CORPUS, data)


def read_corpus(directory: str, expected_sha256: bytes, expected_bytes: int) -> bytes:
    """The corpus bytes, or `CorpusError` saying how they differ from genesis."""
    if expected_bytes > MAX_BYTES:
        raise CorpusError(f"genesis task.corpus.byte_count {expected_bytes} exceeds the {MAX_BYTES}-byte limit of the reference task")
    parts, total = [], 0
    for path in corpus_files(directory):
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES - total + 1)
        total += len(data)
        if total > MAX_BYTES:
            raise CorpusError(f"corpus in {directory} is larger than {MAX_BYTES} bytes")
        parts.append(data)
    text = b"".join(parts)
    digest = corpus_digest(text)
    if len(text) != expected_bytes or digest != expected_sha256:
        raise CorpusError(f"corpus in {directory} does not match genesis: {len(text)} bytes with sha256 {digest.hex()}, genesis names "
                          f"{expected_bytes} bytes with sha256 {expected_sha256.hex()}; install the same fortunes package version "
                          "as the validators or pass the right --corpus directory")
    if len(text) <= 4096:
        raise CorpusError(f"corpus has {len(text)} bytes; the task needs more than 4096")
    return text

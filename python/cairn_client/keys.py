"""Ed25519 signing keys and Cairn's key files (Sources/CairnCrypto/KeyFiles.swift, Ed25519.swift).

A signing key file is JSON::

    {
      "public_key" : "<64 hex>",
      "seed" : "<64 hex>",
      "type" : "cairn-ed25519-v1"
    }

written pretty-printed with sorted keys and a final newline, created with mode 0600 (never readable
by others, not even briefly), never overwritten, and refused on reading when it is not a regular
file, when group or others may read it, or when it is over 64 KiB. The seed must derive the public
key the file names. These are the node's rules, so a key file written here works with `cairn` and
the other way round.

Signing is libsodium's Ed25519 (through PyNaCl), the same library the node links, so signatures
are byte-identical and verification applies the same strict rules.
"""

from __future__ import annotations

import json
import os
import stat

import nacl.exceptions
import nacl.signing

from .wire import PUBLIC_KEY_BYTES, SIGNATURE_BYTES, check_bytes, from_hex, to_hex

__all__ = [
    "MAX_KEY_FILE_BYTES",
    "SEED_BYTES",
    "SIGNING_KEY_TYPE",
    "KeyFileError",
    "SigningKey",
    "read_secret",
    "read_signing_key",
    "verify_signature",
    "write_secret",
    "write_signing_key",
]

SIGNING_KEY_TYPE = "cairn-ed25519-v1"
SEED_BYTES = 32
MAX_KEY_FILE_BYTES = 64 * 1024


class KeyFileError(Exception):
    """A key file that cannot be read or written; names the file and what to do."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class SigningKey:
    """An Ed25519 signing key. The 32-byte seed is what key files store."""

    __slots__ = ("_key",)

    def __init__(self, key: nacl.signing.SigningKey) -> None:
        self._key = key

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        return cls(nacl.signing.SigningKey(check_bytes(seed, SEED_BYTES, "Ed25519 seed")))

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh key from the operating system's CSPRNG."""
        return cls(nacl.signing.SigningKey.generate())

    @property
    def seed(self) -> bytes:
        return bytes(self._key)

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key (the account, author or trainer key)."""
        return bytes(self._key.verify_key)

    @property
    def public_key_hex(self) -> str:
        return to_hex(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached signature of `message`."""
        return bytes(self._key.sign(bytes(message)).signature)

    def __repr__(self) -> str:
        # Never the seed: reprs end up in logs.
        return f"SigningKey(public_key={self.public_key_hex})"


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether `signature` is `public_key`'s signature of `message`; False (never an exception)
    for any malformed key or signature, as the node's `PublicKey.verify`."""
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        nacl.signing.VerifyKey(bytes(public_key)).verify(bytes(message), bytes(signature))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return False
    return True


# --------------------------------------------------------------------------------------------
# Files


def read_secret(path: str | os.PathLike[str]) -> bytes:
    """A secret file's bytes, after checking it is a regular file only its owner can read."""
    name = os.fspath(path)
    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise KeyFileError(name, "does not exist; create it with `cairn keys init --home DIR`") from None
    except OSError as error:
        raise KeyFileError(name, f"cannot stat: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(name, "is not a regular file")
    mode = info.st_mode & 0o777
    if mode & 0o077 != 0:
        raise KeyFileError(
            name,
            f"has mode {mode:o}, readable by group or others; run `chmod 600 {name}` "
            "(and consider the key compromised if others had access)",
        )
    if info.st_size > MAX_KEY_FILE_BYTES:
        raise KeyFileError(name, f"is {info.st_size} bytes; a key file is under 1 KiB")
    try:
        with open(name, "rb") as file:
            # Bounded read: the file may have grown since the stat.
            data = file.read(MAX_KEY_FILE_BYTES + 1)
    except OSError:
        raise KeyFileError(name, "cannot be read") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeyFileError(name, f"is over {MAX_KEY_FILE_BYTES} bytes; a key file is under 1 KiB")
    return data


def write_secret(data: bytes, path: str | os.PathLike[str]) -> None:
    """Creates `path` with mode 0600 from the first byte on, refuses to overwrite, syncs before returning."""
    name = os.fspath(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(name, flags, 0o600)
    except FileExistsError:
        raise KeyFileError(name, "already exists; refusing to overwrite a key (move it away first)") from None
    except OSError as error:
        raise KeyFileError(name, f"cannot create: {error.strerror}") from None
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError as error:
        os.close(fd)
        os.unlink(name)
        raise KeyFileError(name, f"cannot write: {error.strerror}") from None
    os.close(fd)


def _encode_key_file(fields: dict[str, str]) -> bytes:
    # Foundation's JSONEncoder with .prettyPrinted and .sortedKeys: two-space indent, " : ".
    return (json.dumps(fields, indent=2, sort_keys=True, separators=(",", " : ")) + "\n").encode("utf-8")


def write_signing_key(key: SigningKey, path: str | os.PathLike[str]) -> None:
    """Writes `key` as a Cairn signing key file (mode 0600; an existing file is never replaced)."""
    write_secret(
        _encode_key_file({"type": SIGNING_KEY_TYPE, "public_key": key.public_key_hex, "seed": to_hex(key.seed)}),
        path,
    )


def read_signing_key(path: str | os.PathLike[str]) -> SigningKey:
    """Reads a Cairn signing key file, with the node's checks (see the module docstring)."""
    name = os.fspath(path)
    data = read_secret(name)
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise KeyFileError(name, f"not a valid key file: not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise KeyFileError(name, "not a valid key file: expected a JSON object")
    # Unknown keys are ignored, as Swift's JSONDecoder ignores them.
    for field in ("type", "public_key", "seed"):
        if field not in document:
            raise KeyFileError(name, f"not a valid key file: missing key '{field}'")
        if not isinstance(document[field], str):
            raise KeyFileError(name, f"not a valid key file: {field} has the wrong type (expected a string)")
    try:
        public_key = from_hex(document["public_key"], PUBLIC_KEY_BYTES, "public_key")
    except ValueError as error:
        raise KeyFileError(name, f"not a valid key file: invalid Ed25519 public key: {error}") from None
    if document["type"] != SIGNING_KEY_TYPE:
        raise KeyFileError(name, f"type is '{document['type']}', expected '{SIGNING_KEY_TYPE}'")
    try:
        seed = from_hex(document["seed"], SEED_BYTES, "seed")
    except ValueError:
        raise KeyFileError(name, "seed must be 64 hex characters") from None
    key = SigningKey.from_seed(seed)
    if key.public_key != public_key:
        raise KeyFileError(
            name,
            f"seed derives public key {key.public_key_hex[:8]}…, but the file says {to_hex(public_key)[:8]}…; "
            "the file is corrupt or was edited",
        )
    return key

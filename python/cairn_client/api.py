"""A typed client for a Cairn node's HTTP API (ARCHITECTURE §9; Sources/CairnNode/*Routes.swift),
with urllib only.

Errors:

- `APIError(status, code, detail)`: the node answered with its error object ``{"error", "detail"}``;
  branch on `code` (stable: ``unknown_record``, ``overloaded``…), never on `detail`. An answer that
  is not the error object becomes code ``http_<status>``, as in the node's CLI.
- `NodeUnreachable`: no answer at all (refused, reset, timed out, DNS); worth a retry.
- `RecordRejected(id, position, reason, detail)`: a committed record the ledger rejected, with the
  rejection's stable code (``wrong_nonce``, ``unknown_trainer``, ``window_full``…).
- `InvalidReply`: a 2xx answer that is not what the API defines (replies are untrusted: every field
  used is checked, and blobs are checked against the id they were asked by).

Like the node's CLI (`NodeClient.exchange`), a request refused for load (503 ``overloaded``, 429
``rate_limited``) is retried up to 5 times after its Retry-After (1…5 s): every request here is safe
to repeat, a resubmitted record being the same record.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from . import __version__
from .api_replies import (
    AccountReply,
    AssignmentReply,
    BlobReceipt,
    CheckpointReply,
    CommittedRecords,
    Leaderboard,
    ModelReply,
    RecordReply,
    StatusReply,
    WindowReply,
)
from .blob_io import blob_id
from .framing import frame_records
from .json_fields import InvalidReply, Obj, parse_json
from .keys import SigningKey
from .records import RecordBody, SignedRecord, sign_record
from .task_spec import TaskSpec
from .wire import DIGEST_BYTES, PUBLIC_KEY_BYTES, U64_MAX, DomainTag, check_bytes, check_uint, from_hex, to_hex

__all__ = [
    "MAX_CLOCK_SKEW_MS",
    "APIError",
    "InvalidReply",
    "NodeClient",
    "NodeUnreachable",
    "RecordRejected",
    "RecordTimeout",
    "TaskReply",
    "blob_upload_signing_bytes",
    "retry_unreachable",
]

T = TypeVar("T")

TRAINER_HEADER = "X-Cairn-Trainer"
TIME_HEADER = "X-Cairn-Time"
SIGNATURE_HEADER = "X-Cairn-Signature"
MAX_CLOCK_SKEW_MS = 10 * 60 * 1000
"""How far an upload's signed time may be from the node's clock, either way."""

LOAD_RETRIES = 5
MAX_JSON_REPLY_BYTES = 64 * 1024 * 1024
MAX_RECORD_STATUS_IDS = 10_000
MAX_COMMITTED_LIMIT = 5000


# --------------------------------------------------------------------------------------------
# Errors


class APIError(Exception):
    """The node's error reply: HTTP `status`, stable `code`, and `detail` for people."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail} (HTTP {status})")


class NodeUnreachable(Exception):
    """The node could not be reached at all: worth a retry, unlike an answer."""

    def __init__(self, base: str, reason: str) -> None:
        self.base = base
        self.reason = reason
        super().__init__(f"cannot reach {base}: {reason}; is `cairn node` running there?")


class RecordRejected(Exception):
    """A record the ledger executed and rejected, with the rejection's stable code."""

    def __init__(self, record_id: str, position: int, reason: str, detail: str) -> None:
        self.id = record_id
        self.position = position
        self.reason = reason
        self.detail = detail
        super().__init__(f"rejected at position {position}: {reason}: {detail}")


class RecordTimeout(TimeoutError):
    """A submitted record not committed within the time waited."""

    def __init__(self, record_id: str, seconds: float, node: str) -> None:
        self.id = record_id
        self.seconds = seconds
        super().__init__(f"{record_id} was not committed within {seconds:g} s; check `cairn status --node {node}`")


# --------------------------------------------------------------------------------------------
# Helpers


def blob_upload_signing_bytes(chain: bytes, trainer: bytes, blob: bytes, time_ms: int) -> bytes:
    """What a trainer signs to upload a blob (Sources/CairnCore/BlobUpload.swift):
    0x14 ‖ chain ‖ trainer ‖ blob id ‖ time (ms since the Unix epoch, u64 big-endian)."""
    return (
        bytes((int(DomainTag.BLOB_UPLOAD),))
        + check_bytes(chain, DIGEST_BYTES, "chain (genesis hash)")
        + check_bytes(trainer, PUBLIC_KEY_BYTES, "trainer key")
        + check_bytes(blob, DIGEST_BYTES, "blob id")
        + check_uint(time_ms, 64, "time_ms").to_bytes(8, "big")
    )


def _key_bytes(value: str | bytes, size: int, what: str) -> bytes:
    if isinstance(value, str):
        return from_hex(value, size, what)
    return check_bytes(value, size, what)


def retry_unreachable(
    call: Callable[[], T], what: str = "request", attempts: int = 6, log: Callable[[str], None] | None = None
) -> T:
    """Runs `call`, retrying on `NodeUnreachable` with backoff (0.5 s doubling to 8 s), as
    `cairn submit` does; the last attempt's error propagates."""
    delay = 0.5
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except NodeUnreachable as error:
            if attempt == attempts:
                raise
            if log is not None:
                log(f"{what}: {error}; retrying in {delay:g} s")
            time.sleep(delay)
            delay = min(delay * 2, 8.0)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class TaskReply:
    """``GET /v1/task``: the raw JSON and the checked task (`spec`)."""

    raw: dict[str, Any]
    spec: TaskSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def parameter_count(self) -> int:
        return self.spec.parameter_count

    @property
    def chunk_size(self) -> int:
        return self.spec.compression.chunk_size

    @property
    def top_k(self) -> int:
        return self.spec.compression.top_k


# --------------------------------------------------------------------------------------------
# Client


class NodeClient:
    """One node's API. `base` is its URL, e.g. ``http://127.0.0.1:26601``; `timeout` is seconds per
    request (connect and each read)."""

    def __init__(self, base: str, timeout: float = 30.0, log: Callable[[str], None] | None = None) -> None:
        text = base[:-1] if base.endswith("/") else base
        parts = urllib.parse.urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"node '{base}' is not a URL such as http://127.0.0.1:26601")
        self.base = text
        self.timeout = timeout
        self._log = log

    def __repr__(self) -> str:
        return f"NodeClient({self.base!r})"

    # ---- transport

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = MAX_JSON_REPLY_BYTES,
    ) -> tuple[int, bytes]:
        """One exchange: (status, body) of a 2xx answer; `APIError` for any other, after retrying
        load refusals."""
        url = f"{self.base}/{path}"
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=body, method=method)
            request.add_header("User-Agent", f"cairn-client/{__version__}")
            for name, value in (headers or {}).items():
                request.add_header(name, value)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.status, self._read(response, max_bytes, method, path)
            except urllib.error.HTTPError as refusal:
                status = refusal.code
                try:
                    data = refusal.read(64 * 1024)
                except (OSError, http.client.HTTPException):
                    data = b""
                retry_after = refusal.headers.get("Retry-After") if refusal.headers else None
                refusal.close()
                error = self._api_error(status, data, method, path)
            except (urllib.error.URLError, OSError, http.client.HTTPException) as failure:
                reason = getattr(failure, "reason", None) or failure
                raise NodeUnreachable(self.base, str(reason)) from None
            attempt += 1
            if error.code not in ("overloaded", "rate_limited") or attempt > LOAD_RETRIES:
                raise error
            seconds = 1
            if retry_after is not None and retry_after.strip().isdigit():
                seconds = min(5, max(1, int(retry_after.strip())))
            if self._log is not None:
                self._log(f"{method} {path}: {error.code} ({error.detail}); retrying in {seconds} s")
            time.sleep(seconds)

    def _read(self, response: http.client.HTTPResponse, max_bytes: int, method: str, path: str) -> bytes:
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            raise InvalidReply("body", f"{length} bytes exceeds the {max_bytes} this client reads", f"{method} {path}")
        data = response.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InvalidReply("body", f"over the {max_bytes} bytes this client reads", f"{method} {path}")
        return data

    def _api_error(self, status: int, data: bytes, method: str, path: str) -> APIError:
        """The node's `{"error", "detail"}`, or `http_<status>` when the body is not one."""
        try:
            document = json.loads(data.decode("utf-8"))
            if isinstance(document, dict) and isinstance(document.get("error"), str) and isinstance(document.get("detail"), str):
                return APIError(status, document["error"], document["detail"])
        except (UnicodeDecodeError, ValueError):
            pass
        text = data[:200].decode("utf-8", errors="replace")
        return APIError(status, f"http_{status}", f"{method} {path} on {self.base}: {text}")

    def _json(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, Obj]:
        status, data = self._request(method, path, body, headers)
        source = f"{method} /{path} on {self.base}"
        return status, Obj(parse_json(data, source), "", source)

    def _get(self, path: str) -> Obj:
        return self._json("GET", path)[1]

    # ---- node

    def status(self) -> StatusReply:
        """``GET /status``."""
        return StatusReply.parse(self._get("status"))

    def chain(self) -> bytes:
        """The chain's genesis hash, which every signature names (from ``/status``)."""
        return self.status().genesis_hash

    def health(self) -> None:
        """``GET /health``: returns when healthy; `APIError` (``unhealthy``, ``diverged``) otherwise."""
        reply = self._get("health")
        if reply.text("status", 64) != "ok":
            raise reply.fail("status", "is not 'ok'")

    # ---- training

    def task(self) -> TaskReply:
        """``GET /v1/task``: the genesis task, checked as genesis would check it."""
        _, data = self._request("GET", "v1/task")
        source = f"GET /v1/task on {self.base}"
        raw = parse_json(data, source)
        spec = TaskSpec.from_json(raw, source).check(source)
        return TaskReply(raw, spec)

    def model(self) -> ModelReply:
        """``GET /v1/model``: the open window, its model hash and blob id, and its clock."""
        return ModelReply.parse(self._get("v1/model"))

    def assignment(self, trainer: str | bytes, window: int | None = None) -> AssignmentReply:
        """``GET /v1/assignment/{trainer}[?window=W]``: the trainer's data for a window (default: the open one)."""
        key = _key_bytes(trainer, PUBLIC_KEY_BYTES, "trainer")
        path = f"v1/assignment/{to_hex(key)}"
        if window is not None:
            path += f"?window={check_uint(window, 64, 'window')}"
        reply = AssignmentReply.parse(self._get(path))
        if reply.trainer != key:
            raise InvalidReply("trainer", f"the reply is for {to_hex(reply.trainer)}, not {to_hex(key)}", f"GET /{path}")
        if window is not None and reply.window != window:
            raise InvalidReply("window", f"the reply is for window {reply.window}, not {window}", f"GET /{path}")
        return reply

    def window(self, window: int) -> WindowReply:
        """``GET /v1/windows/{k}``: how window k was judged."""
        path = f"v1/windows/{check_uint(window, 64, 'window')}"
        reply = WindowReply.parse(self._get(path))
        if reply.window != window:
            raise InvalidReply("window", f"the reply is for window {reply.window}, not {window}", f"GET /{path}")
        return reply

    def ratings(self) -> Leaderboard:
        """``GET /v1/ratings``: the leaderboard."""
        return Leaderboard.parse(self._get("v1/ratings"))

    # ---- blobs

    def blob(self, blob: str | bytes, max_bytes: int = 300 * 1024 * 1024) -> bytes:
        """``GET /v1/blobs/{id}``: the blob, checked to hash to `blob` (SHA-256 over 0x03 ‖ bytes).

        The default bound fits the largest model the reference task allows (2^26 float32s).
        """
        wanted = _key_bytes(blob, DIGEST_BYTES, "blob id")
        path = f"v1/blobs/{to_hex(wanted)}"
        _, data = self._request("GET", path, max_bytes=max_bytes)
        if blob_id(data) != wanted:
            raise InvalidReply("body", f"the blob hashes to {to_hex(blob_id(data))}, not the id asked for", f"GET /{path}")
        return data

    def put_blob(self, blob: bytes, signing_key: SigningKey, chain: bytes, time_ms: int | None = None) -> BlobReceipt:
        """``PUT /v1/blobs/{id}`` with the trainer's signed upload headers (the signature names the
        chain, the trainer, the blob id and the time, now unless given, in ms since 1970)."""
        data = bytes(blob)
        identifier = blob_id(data)
        now = int(time.time() * 1000) if time_ms is None else check_uint(time_ms, 64, "time_ms")
        signature = signing_key.sign(blob_upload_signing_bytes(chain, signing_key.public_key, identifier, now))
        headers = {
            "Content-Type": "application/octet-stream",
            TRAINER_HEADER: signing_key.public_key_hex,
            TIME_HEADER: str(now),
            SIGNATURE_HEADER: to_hex(signature),
        }
        path = f"v1/blobs/{to_hex(identifier)}"
        status, reply = self._json("PUT", path, data, headers)
        receipt = BlobReceipt.parse(reply, created=status == 201)
        if receipt.id != identifier or receipt.size != len(data):
            raise InvalidReply(
                "id", f"the receipt names {to_hex(receipt.id)} of {receipt.size} bytes, not this blob", f"PUT /{path}"
            )
        return receipt

    # ---- records

    def submit_records(self, records: Sequence[SignedRecord]) -> list[bytes]:
        """``POST /v1/records`` as ``application/octet-stream`` (length-prefixed records): the ids of
        `records`, in order, once the node holds them durably (202). At most 1,000 records and
        256 KiB framed per call (`framing.FramingError` otherwise)."""
        encoded = [record.encode() for record in records]
        body = frame_records(encoded)
        _, reply = self._json("POST", "v1/records", body, {"Content-Type": "application/octet-stream"})
        ids = reply.hexes("ids", DIGEST_BYTES, max_items=len(encoded))
        expected = [record.id for record in records]
        if ids != expected:
            raise InvalidReply("ids", "the node names other ids than the records submitted", "POST /v1/records")
        return ids

    def record(self, record_id: str | bytes) -> RecordReply:
        """``GET /v1/records/{id}``: a committed record's outcome; `APIError` ``unknown_record`` while
        it is not committed (it may still be pending)."""
        wanted = _key_bytes(record_id, DIGEST_BYTES, "record id")
        path = f"v1/records/{to_hex(wanted)}"
        reply = RecordReply.parse(self._get(path))
        if reply.id != wanted:
            raise InvalidReply("id", f"the reply is for {to_hex(reply.id)}", f"GET /{path}")
        return reply

    def record_status(self, record_ids: Sequence[str | bytes]) -> dict[bytes, int]:
        """``POST /v1/records/status``: the sequence position of each of `record_ids` that is committed."""
        if len(record_ids) > MAX_RECORD_STATUS_IDS:
            raise ValueError(f"{len(record_ids)} ids; at most {MAX_RECORD_STATUS_IDS} per call — split the list")
        ids = [to_hex(_key_bytes(i, DIGEST_BYTES, "record id")) for i in record_ids]
        body = json.dumps({"ids": ids}).encode("utf-8")
        _, reply = self._json("POST", "v1/records/status", body, {"Content-Type": "application/json"})
        committed = reply.obj("committed")
        asked = set(ids)
        positions: dict[bytes, int] = {}
        for key in committed.value:
            if key not in asked:
                raise committed.fail(key, "is not an id that was asked about")
            positions[bytes.fromhex(key)] = committed.uint(key)
        return positions

    def committed(self, from_position: int, limit: int | None = None) -> CommittedRecords:
        """``GET /v1/committed?from=P[&limit=N]``: committed record ids from sequence position P
        (the node caps `limit` at 5000), and the position to continue from."""
        path = f"v1/committed?from={check_uint(from_position, 64, 'from')}"
        if limit is not None:
            if not isinstance(limit, int) or not 1 <= limit <= MAX_COMMITTED_LIMIT:
                raise ValueError(f"limit {limit!r} must be 1…{MAX_COMMITTED_LIMIT}")
            path += f"&limit={limit}"
        return CommittedRecords.parse(self._get(path))

    def sequence(self, position: int) -> tuple[bytes, int, bytes]:
        """``GET /v1/sequence/{position}``: (vertex digest, round, sequence hash) delivered there."""
        path = f"v1/sequence/{check_uint(position, 64, 'position')}"
        reply = self._get(path)
        if reply.uint("position") != position:
            raise reply.fail("position", f"the reply is for another position than {position}")
        return reply.hex("digest", DIGEST_BYTES), reply.uint("round"), reply.hex("sequence_hash", DIGEST_BYTES)

    def checkpoint(self, window: int) -> CheckpointReply:
        """``GET /v1/checkpoints/{k}``: window k's checkpoint certificate (`APIError` ``not_certified`` before)."""
        return CheckpointReply.parse(self._get(f"v1/checkpoints/{check_uint(window, 64, 'window')}"))

    # ---- accounts

    def account(self, key: str | bytes) -> AccountReply:
        """``GET /v1/accounts/{key}``: balance and the nonce the account's next record must carry;
        `APIError` ``unknown_account`` for a key that never held a balance."""
        wanted = _key_bytes(key, PUBLIC_KEY_BYTES, "account key")
        path = f"v1/accounts/{to_hex(wanted)}"
        reply = AccountReply.parse(self._get(path))
        if reply.account != wanted:
            raise InvalidReply("account", f"the reply is for {to_hex(reply.account)}", f"GET /{path}")
        return reply

    # ---- submitting and waiting (the node CLI's RecordSubmission)

    def wait_for_record(self, record_id: str | bytes, timeout: float = 60.0, poll_interval: float = 0.1) -> RecordReply:
        """Polls ``GET /v1/records/{id}`` until the record is committed: returns its reply, raises
        `RecordRejected` when the ledger rejected it, `RecordTimeout` after `timeout` seconds."""
        wanted = _key_bytes(record_id, DIGEST_BYTES, "record id")
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self.record(wanted)
            except APIError as error:
                if error.code != "unknown_record":
                    raise
            else:
                if reply.rejected:
                    raise RecordRejected(to_hex(wanted), reply.position, reply.reason or "?", reply.detail or "")
                return reply
            if time.monotonic() >= deadline:
                raise RecordTimeout(to_hex(wanted), timeout, self.base)
            time.sleep(poll_interval)

    def sign(
        self, body: RecordBody | bytes, signing_key: SigningKey, chain: bytes | None = None, nonce: int | None = None
    ) -> SignedRecord:
        """`body` signed by `signing_key` on `chain` (default: the node's genesis hash) with `nonce`
        (default: the account's next nonce as the node reports it)."""
        chain_id = self.chain() if chain is None else check_bytes(chain, DIGEST_BYTES, "chain")
        next_nonce = self.account(signing_key.public_key).nonce if nonce is None else nonce
        return sign_record(body, signing_key, chain_id, next_nonce)

    def submit_and_wait(
        self,
        body: RecordBody | bytes,
        signing_key: SigningKey,
        chain: bytes | None = None,
        timeout: float = 60.0,
        nonce: int | None = None,
    ) -> RecordReply:
        """Signs, submits and waits for one record, as `cairn submit`/`transfer`/`register` do.

        The nonce is the account's next one (``GET /v1/accounts/{key}``) unless given: the ledger
        accepts any nonce ≥ the account's and < it + 2^20, each once, so a record overtaken by
        another of the same author loses only itself. Raises `RecordRejected` with the ledger's
        code (e.g. ``wrong_nonce``, ``unknown_trainer``, ``wrong_window``), `RecordTimeout` when not
        committed within `timeout` seconds.
        """
        record = self.sign(body, signing_key, chain, nonce)
        if record.nonce == U64_MAX:
            raise ValueError("nonce 2^64 − 1 has no successor; this account can sign no more records")
        (identifier,) = self.submit_records([record])
        return self.wait_for_record(identifier, timeout)

"""The HTTP client against a scripted node on 127.0.0.1: replies checked, errors mapped as the
node's CLI maps them, uploads signed, records framed, nonces and waiting as `cairn submit` does."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import CHAIN
from fake_node import FakeNode, Request, error_reply, json_reply

from cairn_client import api
from cairn_client.api import (
    APIError,
    InvalidReply,
    NodeClient,
    NodeUnreachable,
    RecordRejected,
    RecordTimeout,
    blob_upload_signing_bytes,
    retry_unreachable,
)
from cairn_client.blobs import blob_id
from cairn_client.keys import SigningKey, verify_signature
from cairn_client.records import Register, SignedRecord, Transfer, record_id, sign_record, split_frame

H32 = "ab" * 32

STATUS = {
    "chain_id": "cairn-test",
    "genesis_hash": CHAIN.hex(),
    "version": "0.1.0",
    "node": "v0",
    "validator_index": 0,
    "round": 12,
    "last_committed_wave": 3,
    "committed_leaders": 3,
    "delivered": 40,
    "sequence_hash": H32,
    "state_root": H32,
    "window": 2,
    "peers": 3,
    "catching_up": False,
    "pending_records": 0,
}

TASK: dict[str, Any] = {
    "name": "byte-lm-v1",
    "corpus": {"source": "debian-fortunes", "sha256": H32, "byte_count": 1000},
    "model": {"context_bytes": 16, "embedding_dim": 32, "hidden_units": [512, 512], "vocabulary": 256},
    "compression": {"chunk_size": 4096, "top_k": 512, "copycat_overlap_ppm": 900000},
    "lsh": {"bits": 256, "hamming_threshold": 7},
    "training": {
        "max_inner_steps": 1000,
        "batch_size": 256,
        "learning_rate": 0.002,
        "learning_rate_floor": 0.0002,
        "warmup_steps": 100,
        "decay_start_window": 0,
        "decay_windows": 0,
        "weight_decay": 0,
        "feedback_decay": 0.8,
        "outer_learning_rate": 1,
        "averaging": 0,
        "max_aggregated": 20,
        "initial_clip_norm": 8,
        "clip_growth": 2,
        "max_parameter_magnitude": 1000,
        "max_contributions_per_window": 13,
        "blob_retention_windows": 4,
    },
    "evaluation": {"own_contexts": 2048, "random_contexts": 2048, "step": 1, "probe_contexts": 64, "held_out_contexts": 16384},
}

MODEL = {
    "window": 2,
    "model_hash": H32,
    "blob": "cd" * 32,
    "window_opened_at_ms": 1_700_000_000_000,
    "window_ms": 30_000,
    "consensus_time_ms": 1_700_000_010_000,
}


@pytest.fixture
def node() -> Iterator[FakeNode]:
    fake = FakeNode()
    yield fake
    fake.close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(api.time, "sleep", slept.append)
    return slept


def client(node: FakeNode) -> NodeClient:
    return NodeClient(node.url, timeout=5)


# ---- transport and errors


def test_base_url_is_checked() -> None:
    for bad in ("127.0.0.1:26601", "ftp://x", "http://", "http://x?y=1"):
        with pytest.raises(ValueError):
            NodeClient(bad)
    assert NodeClient("http://127.0.0.1:1/").base == "http://127.0.0.1:1"


def test_status_and_chain(node: FakeNode) -> None:
    node.routes[("GET", "/status")] = json_reply(STATUS)
    status = client(node).status()
    assert status.genesis_hash == CHAIN and status.window == 2 and status.catching_up is False
    assert client(node).chain() == CHAIN
    assert node.requests[0].headers["User-Agent"].startswith("cairn-client/")


@pytest.mark.parametrize(
    "change,field",
    [
        ({"genesis_hash": "ab" * 31}, "genesis_hash"),
        ({"genesis_hash": "zz" * 32}, "genesis_hash"),
        ({"round": -1}, "round"),
        ({"round": 2**64}, "round"),
        ({"window": "2"}, "window"),
        ({"catching_up": 0}, "catching_up"),
        ({"delivered": 1.5}, "delivered"),
    ],
)
def test_invalid_replies_name_the_field(node: FakeNode, change: dict[str, Any], field: str) -> None:
    node.routes[("GET", "/status")] = json_reply({**STATUS, **change})
    with pytest.raises(InvalidReply) as caught:
        client(node).status()
    assert caught.value.field == field
    assert "GET /status" in str(caught.value)


def test_missing_key_and_non_json(node: FakeNode) -> None:
    node.routes[("GET", "/status")] = json_reply({k: v for k, v in STATUS.items() if k != "peers"})
    with pytest.raises(InvalidReply, match="peers: missing"):
        client(node).status()
    node.routes[("GET", "/status")] = (200, {}, b"<html>")
    with pytest.raises(InvalidReply, match="not valid JSON"):
        client(node).status()
    node.routes[("GET", "/status")] = (200, {}, b'{"round": NaN}')
    with pytest.raises(InvalidReply, match="not valid JSON"):
        client(node).status()


def test_api_error_from_the_nodes_error_object(node: FakeNode) -> None:
    node.routes[("GET", "/v1/model")] = error_reply(404, "no_model", "state holds no model for window 0")
    with pytest.raises(APIError) as caught:
        client(node).model()
    assert (caught.value.status, caught.value.code, caught.value.detail) == (404, "no_model", "state holds no model for window 0")


def test_api_error_without_the_error_object(node: FakeNode) -> None:
    node.routes[("GET", "/v1/model")] = (502, {}, b"bad gateway")
    with pytest.raises(APIError) as caught:
        client(node).model()
    assert caught.value.code == "http_502" and "bad gateway" in caught.value.detail


def test_load_refusals_are_retried_after_retry_after(node: FakeNode, sleeps: list[float]) -> None:
    node.routes[("GET", "/status")] = [
        error_reply(503, "overloaded", "queue full", {"Retry-After": "30"}),
        error_reply(429, "rate_limited", "slow down"),
        json_reply(STATUS),
    ]
    assert client(node).status().round == 12
    assert sleeps == [5, 1]  # Retry-After clamped to 1…5 s; 1 s without one


def test_load_refusals_give_up_after_five_retries(node: FakeNode, sleeps: list[float]) -> None:
    node.routes[("GET", "/status")] = error_reply(503, "overloaded", "queue full", {"Retry-After": "2"})
    with pytest.raises(APIError) as caught:
        client(node).status()
    assert caught.value.code == "overloaded"
    assert sleeps == [2] * 5


def test_other_errors_are_not_retried(node: FakeNode, sleeps: list[float]) -> None:
    node.routes[("GET", "/status")] = error_reply(503, "unhealthy", "catching up")
    with pytest.raises(APIError):
        client(node).status()
    assert sleeps == [] and len(node.requests) == 1


def test_unreachable_node() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NodeUnreachable, match=f"cannot reach http://127.0.0.1:{port}"):
        NodeClient(f"http://127.0.0.1:{port}", timeout=2).status()


def test_retry_unreachable(sleeps: list[float]) -> None:
    calls = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) < 3:
            raise NodeUnreachable("http://x", "refused")
        return 7

    assert retry_unreachable(flaky) == 7
    assert sleeps == [0.5, 1.0]
    sleeps.clear()

    def down() -> int:
        raise NodeUnreachable("http://x", "down")

    with pytest.raises(NodeUnreachable):
        retry_unreachable(down, attempts=3)
    assert sleeps == [0.5, 1.0]


def test_health(node: FakeNode) -> None:
    node.routes[("GET", "/health")] = json_reply({"status": "ok"})
    client(node).health()
    node.routes[("GET", "/health")] = error_reply(503, "diverged", "state root differs")
    with pytest.raises(APIError, match="diverged"):
        client(node).health()


# ---- training routes


def test_task(node: FakeNode) -> None:
    node.routes[("GET", "/v1/task")] = json_reply(TASK)
    task = client(node).task()
    assert task.raw == TASK
    assert (task.name, task.chunk_size, task.top_k, task.parameter_count) == ("byte-lm-v1", 4096, 512, 664_832)
    assert task.spec.model.hidden_units == (512, 512)
    assert task.spec.training.feedback_decay == 0.8 and task.spec.evaluation.step == 1.0
    assert task.spec.lsh.bits == 256 and task.spec.corpus.sha256 == bytes.fromhex(H32)


def test_task_genesis_would_refuse(node: FakeNode) -> None:
    task = copy.deepcopy(TASK)
    task["training"]["batch_size"] = 0
    task["compression"]["top_k"] = 5000
    node.routes[("GET", "/v1/task")] = json_reply(task)
    with pytest.raises(InvalidReply, match="batch_size 1…4096") as caught:
        client(node).task()
    assert "top_k ≤ chunk_size" in str(caught.value)


@pytest.mark.parametrize(
    "section,key,value,field",
    [
        ("training", "learning_rate", "fast", "task.training.learning_rate"),
        ("model", "hidden_units", [512, -1], "task.model.hidden_units[1]"),
        ("compression", "chunk_size", 2**32, "task.compression.chunk_size"),
        ("corpus", "sha256", "00", "task.corpus.sha256"),
    ],
)
def test_task_field_types(node: FakeNode, section: str, key: str, value: Any, field: str) -> None:
    task = copy.deepcopy(TASK)
    task[section][key] = value
    node.routes[("GET", "/v1/task")] = json_reply(task)
    with pytest.raises(InvalidReply) as caught:
        client(node).task()
    assert caught.value.field == field


def test_model(node: FakeNode) -> None:
    node.routes[("GET", "/v1/model")] = json_reply(MODEL)
    model = client(node).model()
    assert model.blob == bytes.fromhex("cd" * 32) and model.window_ms == 30_000
    assert model.window_closes_at_ms == 1_700_000_030_000


def test_assignment(node: FakeNode, key: SigningKey) -> None:
    path = f"/v1/assignment/{key.public_key_hex}?window=3"
    reply = {"window": 3, "trainer": key.public_key_hex, "beacon": H32, "contexts": 256_000}
    node.routes[("GET", path)] = json_reply(reply)
    assignment = client(node).assignment(key.public_key_hex, 3)
    assert assignment.beacon == bytes.fromhex(H32) and assignment.contexts == 256_000
    node.routes[("GET", path)] = json_reply({**reply, "trainer": "00" * 32})
    with pytest.raises(InvalidReply, match="trainer"):
        client(node).assignment(key.public_key, 3)
    node.routes[("GET", path)] = json_reply({**reply, "window": 4})
    with pytest.raises(InvalidReply, match="window"):
        client(node).assignment(key.public_key, 3)


WINDOW = {
    "window": 1,
    "status": "finalized",
    "model_hash": H32,
    "model_blob": H32,
    "clip_norm": 1.5,
    "contribution_count": 1,
    "closing_beacon": H32,
    "heldout_loss": 5.25,
    "contributions": [
        {
            "id": H32,
            "author": H32,
            "base_window": 1,
            "blob": H32,
            "blob_size": 4654,
            "beacon": H32,
            "inner_steps": 500,
            "evaluations": [
                {
                    "validator": 0,
                    "committed": True,
                    "revealed": True,
                    "flags": 0,
                    "own_before": 5.5,
                    "own_after": 5.25,
                    "random_before": 5.5,
                    "random_after": 5.375,
                    "sim_hash": "00ff",
                },
                {"validator": 1, "committed": True, "revealed": False},
            ],
            "outcome": {"members": [0, 2, 3], "score_ppb": 22_727_272, "own_score_ppb": 45_454_545, "indicator": 1, "flags": 0},
        }
    ],
    "validator_flags": [{"validator": 1, "unrevealed": 1, "outside_quorum": 0, "deviant": 0}],
    "trainers": [
        {
            "trainer": H32,
            "name": "t1",
            "contribution": H32,
            "score_ppb": 22_727_272,
            "rank_score_ppb": 22_727_272,
            "rank": 1,
            "mu_before_nano": 25_000_000_000,
            "sigma_before_nano": 8_333_333_333,
            "mu_after_nano": 26_000_000_000,
            "sigma_after_nano": 8_000_000_000,
            "mu_before": 25.0,
            "sigma_before": 8.333333333,
            "mu_after": 26.0,
            "sigma_after": 8.0,
            "ordinal_after": 2.0,
            "bma": 0.05,
            "final": 0.1,
            "penalties": [],
            "payout": 1000,
        }
    ],
    "rewards": {
        "emitted": 2000,
        "trainers_paid": 1000,
        "validators_paid": 1000,
        "burned": 0,
        "validators": [{"validator": 0, "evaluations": 1, "payout": 1000}],
    },
}


def test_window(node: FakeNode) -> None:
    node.routes[("GET", "/v1/windows/1")] = json_reply(WINDOW)
    window = client(node).window(1)
    contribution = window.contributions[0]
    assert contribution.blob_size == 4654 and contribution.evaluations[0].sim_hash == b"\x00\xff"
    assert contribution.inner_steps == 500 and window.contribution_count == 1 and window.clip_norm == 1.5
    assert contribution.evaluations[1].flags is None and contribution.evaluations[1].own_before is None
    assert contribution.outcome is not None and contribution.outcome.copycat_of is None
    assert contribution.outcome.score_ppb == 22_727_272
    assert window.trainers[0].final == 0.1 and window.rewards is not None and window.rewards.validators[0].payout == 1000
    open_window = {**WINDOW, "status": "open", "trainers": [], "contributions": []}
    del open_window["rewards"], open_window["model_hash"]
    node.routes[("GET", "/v1/windows/1")] = json_reply(open_window)
    assert client(node).window(1).rewards is None
    bad = copy.deepcopy(WINDOW)
    bad["contributions"][0]["evaluations"][0]["flags"] = -1
    node.routes[("GET", "/v1/windows/1")] = json_reply(bad)
    with pytest.raises(InvalidReply) as caught:
        client(node).window(1)
    assert caught.value.field == "contributions[0].evaluations[0].flags"


def test_ratings(node: FakeNode) -> None:
    node.routes[("GET", "/v1/ratings")] = json_reply(
        {
            "window": 3,
            "rating": {"mu": 25, "sigma": 8.333, "beta": 4.1667, "tau": 0.0833},
            "trainers": [
                {
                    "trainer": H32,
                    "name": "t1",
                    "mu": 26.0,
                    "sigma": 8.0,
                    "ordinal": 2.0,
                    "bma": 0.05,
                    "final": 0.1,
                    "last_payout": 10,
                    "total_payout": 20,
                    "rated_windows": 2,
                    "active": True,
                }
            ],
        }
    )
    board = client(node).ratings()
    assert board.rating.mu == 25.0 and board.trainers[0].total_payout == 20 and board.trainers[0].active


# ---- blobs


def test_blob_is_checked_against_its_id(node: FakeNode) -> None:
    data = b"CPGD blob bytes"
    identifier = blob_id(data)
    node.routes[("GET", f"/v1/blobs/{identifier.hex()}")] = (200, {"Content-Type": "application/octet-stream"}, data)
    assert client(node).blob(identifier) == data
    assert client(node).blob(identifier.hex()) == data
    node.routes[("GET", f"/v1/blobs/{identifier.hex()}")] = (200, {}, data + b"!")
    with pytest.raises(InvalidReply, match="hashes to"):
        client(node).blob(identifier)


def test_blob_size_is_bounded(node: FakeNode) -> None:
    data = bytes(1000)
    node.routes[("GET", f"/v1/blobs/{blob_id(data).hex()}")] = (200, {}, data)
    with pytest.raises(InvalidReply, match="exceeds the 999"):
        client(node).blob(blob_id(data), max_bytes=999)


def test_put_blob_signs_the_upload(node: FakeNode, key: SigningKey) -> None:
    data = b"some blob"
    identifier = blob_id(data)
    seen: list[Request] = []

    def store(request: Request) -> tuple[int, dict[str, str], bytes]:
        seen.append(request)
        return json_reply({"id": identifier.hex(), "size": len(request.body)}, 201)

    node.routes[("PUT", f"/v1/blobs/{identifier.hex()}")] = store
    receipt = client(node).put_blob(data, key, CHAIN, time_ms=1_700_000_000_123)
    assert receipt.created and receipt.size == len(data) and receipt.id == identifier
    request = seen[0]
    assert request.body == data and request.headers["Content-Type"] == "application/octet-stream"
    assert request.headers["X-Cairn-Trainer"] == key.public_key_hex
    assert request.headers["X-Cairn-Time"] == "1700000000123"
    message = blob_upload_signing_bytes(CHAIN, key.public_key, identifier, 1_700_000_000_123)
    assert message == b"\x14" + CHAIN + key.public_key + identifier + (1_700_000_000_123).to_bytes(8, "big")
    assert verify_signature(key.public_key, bytes.fromhex(request.headers["X-Cairn-Signature"]), message)


def test_put_blob_refusals_and_time_now(node: FakeNode, key: SigningKey, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"blob"
    path = f"/v1/blobs/{blob_id(data).hex()}"
    monkeypatch.setattr(api.time, "time", lambda: 1_700_000_000.5)
    node.routes[("PUT", path)] = error_reply(403, "not_registered", "not a registered trainer")
    with pytest.raises(APIError) as caught:
        client(node).put_blob(data, key, CHAIN)
    assert (caught.value.status, caught.value.code) == (403, "not_registered")
    assert node.requests[-1].headers["X-Cairn-Time"] == "1700000000500"
    node.routes[("PUT", path)] = json_reply({"id": blob_id(data).hex(), "size": 3})
    with pytest.raises(InvalidReply):
        client(node).put_blob(data, key, CHAIN)


# ---- records


def _accept_records(request: Request) -> tuple[int, dict[str, str], bytes]:
    assert request.headers["Content-Type"] == "application/octet-stream"
    return json_reply({"ids": [record_id(r).hex() for r in split_frame(request.body)]}, 202)


def test_submit_records_frames_and_checks_ids(node: FakeNode, key: SigningKey) -> None:
    records = [sign_record(Register("abc"), key, CHAIN, n) for n in range(3)]
    node.routes[("POST", "/v1/records")] = _accept_records
    assert client(node).submit_records(records) == [r.id for r in records]
    node.routes[("POST", "/v1/records")] = json_reply({"ids": [H32] * 3}, 202)
    with pytest.raises(InvalidReply, match="other ids"):
        client(node).submit_records(records)
    node.routes[("POST", "/v1/records")] = error_reply(400, "invalid_record", "record 1: signature does not verify")
    with pytest.raises(APIError, match="invalid_record"):
        client(node).submit_records(records)


def test_record_status(node: FakeNode) -> None:
    a, b = bytes([1]) * 32, bytes([2]) * 32

    def status(request: Request) -> tuple[int, dict[str, str], bytes]:
        assert json.loads(request.body) == {"ids": [a.hex(), b.hex()]}
        return json_reply({"committed": {a.hex(): 17}})

    node.routes[("POST", "/v1/records/status")] = status
    assert client(node).record_status([a, b.hex()]) == {a: 17}
    node.routes[("POST", "/v1/records/status")] = json_reply({"committed": {H32: 1}})
    with pytest.raises(InvalidReply, match="not an id that was asked about"):
        client(node).record_status([a])


def test_committed(node: FakeNode) -> None:
    node.routes[("GET", "/v1/committed?from=5&limit=2")] = json_reply({"records": [H32, H32], "next": 7})
    page = client(node).committed(5, 2)
    assert page.next == 7 and page.records == [bytes.fromhex(H32)] * 2
    with pytest.raises(ValueError):
        client(node).committed(5, 5001)


def test_account_nonce(node: FakeNode, key: SigningKey) -> None:
    path = f"/v1/accounts/{key.public_key_hex}"
    node.routes[("GET", path)] = json_reply({"account": key.public_key_hex, "balance": 10**15, "nonce": 4})
    account = client(node).account(key.public_key)
    assert (account.balance, account.nonce) == (10**15, 4)
    node.routes[("GET", path)] = json_reply({"account": H32, "balance": 1, "nonce": 4})
    with pytest.raises(InvalidReply, match="account"):
        client(node).account(key.public_key_hex)


class Ledger:
    """Routes for one record's way: account nonce, submission, then `GET /v1/records/{id}`."""

    def __init__(self, node: FakeNode, key: SigningKey, nonce: int, outcomes: list[dict[str, Any] | None]) -> None:
        self.submitted: list[SignedRecord] = []
        self.outcomes = outcomes
        node.routes[("GET", "/status")] = json_reply(STATUS)
        node.routes[("GET", f"/v1/accounts/{key.public_key_hex}")] = json_reply(
            {"account": key.public_key_hex, "balance": 100, "nonce": nonce}
        )
        node.routes[("POST", "/v1/records")] = self.submit
        self.node = node

    def submit(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        (encoded,) = split_frame(request.body)
        record = SignedRecord.decode(encoded)
        self.submitted.append(record)
        self.node.routes[("GET", f"/v1/records/{record.id_hex}")] = self.lookup
        return json_reply({"ids": [record.id_hex]}, 202)

    def lookup(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if outcome is None:
            return error_reply(404, "unknown_record", "not committed (it may still be pending)")
        return json_reply({"id": self.submitted[-1].id_hex, **outcome})


def test_submit_and_wait_uses_the_account_nonce(node: FakeNode, key: SigningKey, sleeps: list[float]) -> None:
    ledger = Ledger(node, key, 5, [None, None, {"status": "committed", "position": 99}])
    body = Transfer(bytes(32), 3)
    reply = client(node).submit_and_wait(body, key)
    record = ledger.submitted[0]
    assert record.nonce == 5 and record.decoded_body() == body and record.verify(CHAIN)
    assert reply.status == "committed" and reply.position == 99 and reply.id == record.id
    assert sleeps == [0.1, 0.1]


def test_submit_and_wait_with_explicit_chain_and_nonce(node: FakeNode, key: SigningKey, sleeps: list[float]) -> None:
    ledger = Ledger(node, key, 5, [{"status": "committed", "position": 1}])
    other_chain = bytes(32)
    client(node).submit_and_wait(Register("abc"), key, chain=other_chain, nonce=9)
    assert ledger.submitted[0].nonce == 9 and ledger.submitted[0].verify(other_chain)
    assert not any(r.path == "/status" or r.path.startswith("/v1/accounts") for r in node.requests)


def test_submit_and_wait_rejected(node: FakeNode, key: SigningKey, sleeps: list[float]) -> None:
    Ledger(node, key, 0, [{"status": "rejected", "position": 7, "reason": "unknown_trainer", "detail": "not registered"}])
    with pytest.raises(RecordRejected) as caught:
        client(node).submit_and_wait(Register("abc"), key, CHAIN)
    assert (caught.value.reason, caught.value.position, caught.value.detail) == ("unknown_trainer", 7, "not registered")
    assert str(caught.value) == "rejected at position 7: unknown_trainer: not registered"


def test_submit_and_wait_times_out(node: FakeNode, key: SigningKey, sleeps: list[float]) -> None:
    Ledger(node, key, 0, [None])
    with pytest.raises(RecordTimeout, match="was not committed within 0 s"):
        client(node).submit_and_wait(Register("abc"), key, CHAIN, timeout=0)


def test_record_reply_status_is_checked(node: FakeNode) -> None:
    node.routes[("GET", f"/v1/records/{H32}")] = json_reply({"id": H32, "status": "pending", "position": 1})
    with pytest.raises(InvalidReply, match="status"):
        client(node).record(H32)

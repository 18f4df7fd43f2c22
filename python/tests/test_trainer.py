"""The Python trainer's window against a scripted node: what it uploads and submits is what the
node would accept (the blob decodes under the task, the contribution names it, its window, the
assignment and the steps taken), the error-feedback state advances only on commit, a transient
connection failure is retried, a rejection skips the window, and a commit seen late is adopted."""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CHAIN
from fake_node import FakeNode, Request, error_reply, json_reply
from test_api import STATUS, TASK

from cairn_client import api, numerics
from cairn_client.api import NodeClient, NodeUnreachable
from cairn_client.crosscheck import CrossCheck
from cairn_client.eager import predict_pending_step
from cairn_client.keys import SigningKey, write_signing_key
from cairn_client.model import ModelLayout
from cairn_client.model_blob import ModelSpec, encode_model, model_hash
from cairn_client.pseudo_gradient import compress_with_feedback
from cairn_client.pseudo_gradient import decode as decode_pseudo_gradient
from cairn_client.pseudo_gradient import encode as encode_pseudo_gradient
from cairn_client.records import Contribution, SignedRecord, assignment_digest, split_frame
from cairn_client.trainer import Trainer
from cairn_client.trainer_state import read_trainer_state, trainer_state_path
from cairn_client.wire import DomainTag, digest

SPEC = {"context_bytes": 4, "embedding_dim": 8, "hidden_units": [16], "vocabulary": 256}
BEACON = bytes(range(32))


def corpus_bytes() -> bytes:
    rng = numerics.SplitMix64(3)
    phrase = b"strangers train one shared model. "
    return bytes(rng.below(256) if rng.below(10) == 0 else phrase[i % len(phrase)] for i in range(6000))


class Network:
    """One validator's API for a trainer: task, model, assignment, uploads, records, windows."""

    def __init__(self, node: FakeNode, key: SigningKey, corpus: bytes, window: int = 5) -> None:
        self.node, self.key, self.window = node, key, window
        layout = ModelLayout.from_spec(SPEC)
        slots = [(s.name, s.offset, s.rows, s.columns) for s in layout.slots]
        self.theta = numerics.initial_parameters(slots, layout.input_width, b"genesis")
        self.model_blob = encode_model(self.theta, "byte-lm-v1", ModelSpec.from_json(SPEC))
        model_id = digest(DomainTag.BLOB, self.model_blob)
        task: dict[str, Any] = copy.deepcopy(TASK)
        task["model"] = SPEC
        task["corpus"] = {"source": "test", "sha256": hashlib.sha256(b"\x0d" + corpus).hexdigest(), "byte_count": len(corpus)}
        task["compression"] = {"chunk_size": 256, "top_k": 8, "copycat_overlap_ppm": 900000}
        task["training"] = {**task["training"], "batch_size": 8, "max_inner_steps": 20}
        self.task = task
        self.blobs: dict[str, bytes] = {model_id.hex(): self.model_blob}
        self.submitted: list[SignedRecord] = []
        self.outcome: dict[str, Any] | None = {"status": "committed", "position": 7}
        self.nonce = 0
        node.routes[("GET", "/status")] = json_reply(STATUS)
        node.routes[("GET", "/v1/task")] = json_reply(task)
        node.routes[("GET", "/v1/model")] = self.model
        node.routes[("GET", f"/v1/blobs/{model_id.hex()}")] = (200, {}, self.model_blob)
        node.routes[("GET", f"/v1/accounts/{key.public_key_hex}")] = lambda r: json_reply(
            {"account": key.public_key_hex, "balance": 10**9, "nonce": self.nonce})
        node.routes[("POST", "/v1/records")] = self.submit
        self.model_id = model_id
        node.routes[("GET", f"/v1/assignment/{key.public_key_hex}?window={window}")] = json_reply(
            {"window": window, "trainer": key.public_key_hex, "beacon": BEACON.hex(), "contexts": 160})

    def model(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        # The window opened just now and closes in 5 s: the trainer's budget is ~1 s after the margin.
        now = int(time.time() * 1000)
        return json_reply({"window": self.window, "model_hash": model_hash(self.model_blob).hex(), "blob": self.model_id.hex(),
                           "window_opened_at_ms": now, "window_ms": 5000, "consensus_time_ms": now})

    def put_blob(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        ident = request.path.rsplit("/", 1)[1]
        self.blobs[ident] = request.body
        return json_reply({"id": ident, "size": len(request.body)}, 201)

    def submit(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        (encoded,) = split_frame(request.body)
        record = SignedRecord.decode(encoded)
        self.submitted.append(record)
        outcome = self.outcome
        self.node.routes[("GET", f"/v1/records/{record.id_hex}")] = (
            error_reply(404, "unknown_record", "not committed") if outcome is None else json_reply({"id": record.id_hex, **outcome}))
        return json_reply({"ids": [record.id_hex]}, 202)


class BlobUploads(dict):  # type: ignore[type-arg]
    """Routes that also store any `PUT /v1/blobs/{id}` (the id is only known once trained)."""

    def __init__(self, routes: dict[Any, Any], net: Network) -> None:
        super().__init__(routes)
        self.net = net

    def get(self, key: Any, default: Any = None) -> Any:
        if key[0] == "PUT" and key[1].startswith("/v1/blobs/"):
            return self.net.put_blob
        return super().get(key, default)


@pytest.fixture
def setup(tmp_path: Path, key: SigningKey) -> Iterator[tuple[Network, str, str]]:
    node = FakeNode()
    corpus = corpus_bytes()
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "text").write_bytes(corpus)
    key_path = str(tmp_path / "trainer.key")
    write_signing_key(key, key_path)
    net = Network(node, key, corpus)
    node.routes = BlobUploads(node.routes, net)
    yield net, key_path, str(tmp_path / "corpus")
    node.close()


def trainer(net: Network, key: SigningKey, key_path: str, corpus: str, lines: list[str]) -> Trainer:
    return Trainer(NodeClient(net.node.url, timeout=5), key, key_path, corpus, threads=1, margin_ms=4000, say=lines.append, progress=False)


def test_one_window_submits_what_the_node_accepts(setup: tuple[Network, str, str], key: SigningKey) -> None:
    net, key_path, corpus = setup
    lines: list[str] = []
    t = trainer(net, key, key_path, corpus, lines)
    assert t.train_and_submit(net.window, net.theta.copy(), (5.0, time.time() + 1.0)) is not None
    (record,) = net.submitted
    assert record.verify(CHAIN) and record.author == key.public_key
    body = record.decoded_body()
    assert isinstance(body, Contribution)
    assert body.base_window == net.window and body.inner_steps >= 1
    assert body.assignment == assignment_digest(BEACON, key.public_key)
    blob = net.blobs[body.blob.hex()]
    assert body.blob_size == len(blob) and digest(DomainTag.BLOB, blob) == body.blob
    delta = decode_pseudo_gradient(blob, len(net.theta), 256, 8)
    assert delta.l2_norm() > 0
    state = read_trainer_state(trainer_state_path(key_path), len(net.theta))
    assert state.last_window == net.window and np.abs(state.residual).sum() > 0
    assert t.last_sent is not None and t.last_sent[0] == net.window


def test_a_rejection_skips_the_window_and_keeps_the_state(setup: tuple[Network, str, str], key: SigningKey) -> None:
    net, key_path, corpus = setup
    net.outcome = {"status": "rejected", "position": 9, "reason": "wrong_window", "detail": "window 5 closed"}
    lines: list[str] = []
    t = trainer(net, key, key_path, corpus, lines)
    with pytest.raises(api.RecordRejected):
        t.train_and_submit(net.window, net.theta.copy(), (5.0, time.time() + 1.0))
    assert read_trainer_state(trainer_state_path(key_path), len(net.theta)).last_window is None
    assert t.last_sent is None


def test_a_transient_connection_failure_is_retried(setup: tuple[Network, str, str], key: SigningKey,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    net, key_path, corpus = setup
    monkeypatch.setattr(api.time, "sleep", lambda s: None)
    lines: list[str] = []
    t = trainer(net, key, key_path, corpus, lines)
    real = t.client.assignment
    failures = [NodeUnreachable(net.node.url, "connection refused")] * 2

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(t.client, "assignment", flaky)
    assert t.train_and_submit(net.window, net.theta.copy(), (5.0, time.time() + 1.0)) is not None
    assert sum("retrying" in line for line in lines) == 2


def test_a_commit_seen_late_is_adopted_before_the_next_window(setup: tuple[Network, str, str], key: SigningKey,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    net, key_path, corpus = setup
    net.outcome = None  # never seen committed while waiting
    lines: list[str] = []
    t = trainer(net, key, key_path, corpus, lines)
    monkeypatch.setattr(t.client, "wait_for_record", lambda ident, timeout: (_ for _ in ()).throw(api.RecordTimeout(ident.hex(), 0.0, "x")))
    with pytest.raises(api.RecordTimeout):
        t.train_and_submit(net.window, net.theta.copy(), (5.0, time.time() + 1.0))
    assert t.unconfirmed is not None and t.last_sent is None
    (record,) = net.submitted
    net.node.routes[("GET", f"/v1/records/{record.id_hex}")] = json_reply({"id": record.id_hex, "status": "committed", "position": 3})
    t.confirm_late_commit()
    assert t.last_sent is not None and t.unconfirmed is None
    assert read_trainer_state(trainer_state_path(key_path), len(net.theta)).last_window == net.window


def submitted_once(net: Network, key: SigningKey, key_path: str, corpus: str) -> tuple[Trainer, SignedRecord, Contribution]:
    """A trainer that contributed to `net.window`, its record and the contribution in it."""
    t = trainer(net, key, key_path, corpus, [])
    t.train_and_submit(net.window, net.theta.copy(), (5.0, time.time() + 1.0))
    (record,) = net.submitted
    body = record.decoded_body()
    assert isinstance(body, Contribution)
    return t, record, body


def test_crosscheck_skips_malformed_reveals_and_judges_the_quorum(setup: tuple[Network, str, str], key: SigningKey) -> None:
    """A validator outside the quorum, or one revealing a hash of another width, is reported but
    never judged and never crashes the command."""
    net, key_path, corpus = setup
    _, record, body = submitted_once(net, key, key_path, corpus)
    seed = bytes([9]) * 32
    good = {"validator": 0, "committed": True, "revealed": True, "flags": 0, "own_before": 5.5, "own_after": 5.4,
            "random_before": 5.5, "random_after": 5.45, "sim_hash": "00" * 32}
    evaluations = [good, {**good, "validator": 1}, {**good, "validator": 2, "sim_hash": "ff" * 40}, {**good, "validator": 3, "sim_hash": "ff" * 32}]
    contribution = {"id": record.id_hex, "author": key.public_key_hex, "base_window": net.window, "blob": body.blob.hex(),
                    "blob_size": body.blob_size, "beacon": seed.hex(), "inner_steps": body.inner_steps, "evaluations": evaluations,
                    "outcome": {"members": [0, 1], "score_ppb": 1000, "own_score_ppb": 2000, "indicator": 1, "flags": 0}}
    window = {"window": net.window, "status": "finalized", "contribution_count": 1, "contributions": [contribution],
              "validator_flags": [], "trainers": []}
    next_window = {"window": net.window + 1, "status": "open", "model_hash": model_hash(net.model_blob).hex(), "model_blob": net.model_id.hex(),
                   "clip_norm": 0.0, "contribution_count": 0, "contributions": [], "validator_flags": [], "trainers": []}
    net.node.routes[("GET", f"/v1/windows/{net.window}")] = json_reply(window)
    net.node.routes[("GET", f"/v1/windows/{net.window + 1}")] = json_reply(next_window)
    net.node.routes[("GET", f"/v1/blobs/{body.blob.hex()}")] = (200, {}, net.blobs[body.blob.hex()])
    (check,) = CrossCheck(NodeClient(net.node.url, timeout=5), corpus).window(net.window)
    assert check.status == "evaluated"
    assert set(check.torch_vs_swift) == {0, 1, 3}  # validator 2's 40-byte hash is not compared
    assert set(check.torch_vs_members) == {0, 1}
    assert check.swift_vs_swift == [0]
    assert check.torch_score_ppb is not None and json.dumps(check.as_json())


def test_the_next_window_starts_from_the_predicted_model(setup: tuple[Network, str, str], key: SigningKey) -> None:
    """`--eager all` (D67): window k+1 trains from θ less the step window k's Δs of trusted trainers
    (itself, and those accepted in window k−1) will make; training starts from its own Δ and is
    moved onto the prediction when it arrives; an unreadable window is reported, not fatal."""
    net, key_path, corpus = setup
    t, record, body = submitted_once(net, key, key_path, corpus)
    spec = t.task.reply.spec
    assert t.last_sent is not None
    own = t.last_sent[1]
    own_origin, note = t.own_origin(net.window + 1, net.theta)
    assert note == "the model less its own pending Δ" and not np.array_equal(own_origin, net.theta)
    with pytest.raises(api.APIError):  # the node serves no window yet
        t.predicted_model(net.window + 1, net.theta)

    def blob_of(scale: float) -> tuple[Any, bytes, bytes]:
        dense = (np.arange(len(net.theta), dtype=np.float32) % 7 - 3) * np.float32(scale)
        pg, _ = compress_with_feedback(dense, np.zeros_like(dense), 256, 8, 1.0)
        blob = encode_pseudo_gradient(pg, 8)
        return pg, blob, digest(DomainTag.BLOB, blob)

    trusted_pg, trusted_blob, trusted_id = blob_of(1e-3)
    _, hostile_blob, hostile_id = blob_of(-5e-2)
    entry = {"base_window": net.window, "blob_size": 0, "beacon": "00" * 32, "inner_steps": 1, "evaluations": [], "outcome": None}
    window = {"window": net.window, "status": "closed", "contribution_count": 0, "validator_flags": [], "trainers": [],
              "contributions": [{**entry, "id": record.id_hex, "author": key.public_key_hex, "blob": body.blob.hex()},
                                {**entry, "id": "ee" * 32, "author": "11" * 32, "blob": trusted_id.hex()},
                                {**entry, "id": "cc" * 32, "author": "22" * 32, "blob": hostile_id.hex()},
                                {**entry, "id": "ff" * 32, "author": "33" * 32, "blob": hostile_id.hex()},
                                {**entry, "id": "dd" * 32, "author": "11" * 32, "blob": trusted_id.hex(), "base_window": net.window - 1}]}
    accepted = {"members": [0, 1, 2], "score_ppb": 1000, "own_score_ppb": 2000, "indicator": 1, "flags": 0}
    # A positive score the ledger still kept out of its step (a 10× Δ: `oversized`) earns no trust.
    result = {"rank": 1, "mu_before_nano": 0, "sigma_before_nano": 0, "mu_after_nano": 0, "sigma_after_nano": 0, "mu_before": 0.0,
              "sigma_before": 0.0, "mu_after": 0.0, "sigma_after": 0.0, "ordinal_after": 0.0, "bma": 0.0, "final": 0.0, "payout": 0}
    judged = {"window": net.window - 1, "status": "finalized", "contribution_count": 2, "validator_flags": [],
              "trainers": [{**result, "trainer": "33" * 32, "penalties": ["oversized"]},
                           {**result, "trainer": "11" * 32, "penalties": ["bma_floor"]}],
              "contributions": [{**entry, "base_window": net.window - 1, "id": "aa" * 32, "author": "11" * 32, "blob": trusted_id.hex(),
                                 "outcome": accepted},
                                {**entry, "base_window": net.window - 1, "id": "bb" * 32, "author": "22" * 32, "blob": hostile_id.hex(),
                                 "outcome": {**accepted, "score_ppb": -5}},
                                {**entry, "base_window": net.window - 1, "id": "ab" * 32, "author": "33" * 32, "blob": hostile_id.hex(),
                                 "outcome": {**accepted, "score_ppb": 9000}}]}
    current = {"window": net.window + 1, "status": "open", "model_hash": model_hash(net.model_blob).hex(), "model_blob": net.model_id.hex(),
               "clip_norm": 0.0, "contribution_count": 0, "contributions": [], "validator_flags": [], "trainers": []}
    net.node.routes[("GET", f"/v1/windows/{net.window - 1}")] = json_reply(judged)
    net.node.routes[("GET", f"/v1/windows/{net.window}")] = json_reply(window)
    net.node.routes[("GET", f"/v1/windows/{net.window + 1}")] = json_reply(current)
    net.node.routes[("GET", f"/v1/blobs/{body.blob.hex()}")] = (200, {}, net.blobs[body.blob.hex()])
    net.node.routes[("GET", f"/v1/blobs/{trusted_id.hex()}")] = (200, {}, trusted_blob)
    net.node.routes[("GET", f"/v1/blobs/{hostile_id.hex()}")] = (200, {}, hostile_blob)
    predicted, count = t.predicted_model(net.window + 1, net.theta)
    # Its own and the trainer accepted last judged window; not the one whose Δ scored negative,
    # nor the oversized one, nor a contribution trained from another window's model.
    assert count == 2
    # Weighted by the accepted scores of the judged window; its own (no score there) at their median.
    expected = predict_pending_step(net.theta, 0.0, [(bytes.fromhex(record.id_hex), own), (bytes([0xEE]) * 32, trusted_pg)], spec.training,
                                    [1000, 1000])
    assert np.array_equal(predicted, expected)
    # Rebasing keeps the progress made: Δ = origin − θ_local is unchanged by the move.
    t.training.adopt(own_origin)
    progressed = own_origin - np.float32(1e-3)
    t.training.adopt(progressed)
    t.training.rebase(own_origin, predicted)
    np.testing.assert_allclose(predicted - t.training.parameters(), own_origin - progressed, atol=1e-6)
    t.eager = "none"
    assert t.own_origin(net.window + 1, net.theta) == (net.theta, "the model")

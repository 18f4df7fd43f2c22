"""The trainer loop of ``cairn submit``, in PyTorch: each window, fetch the model, train on this
trainer's assignment until the window's deadline, compress Δ top-k with error feedback, upload the
blob, sign and submit the contribution, and report each contribution's score once it is judged.

The behaviour follows Sources/cairn/SubmitCommand.swift (D60): one contribution per window; AdamW's
moments carry over between windows; training starts from the model less this trainer's own Δ of
the previous window (which the ledger has not applied yet: the eager update); the error-feedback
residual advances only once the contribution is committed, and persists next to the key file in
the Swift trainer's own format (``KEY.state``), so the two trainers can take over from each other.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from . import numerics
from .api import APIError, NodeClient, NodeUnreachable, RecordRejected, RecordTimeout, TaskReply, retry_unreachable
from .corpus import read_corpus
from .eager import predict_pending_step, trusted_scores
from .errors import TrainerError
from .json_fields import InvalidReply
from .keys import SigningKey
from .model import ByteMLP, Corpus, ModelLayout
from .model_blob import decode_model, model_hash
from .pseudo_gradient import PseudoGradient, compress_with_feedback
from .pseudo_gradient import decode as decode_pseudo_gradient
from .pseudo_gradient import encode as encode_pseudo_gradient
from .records import CompressionParameters, Contribution, assignment_digest
from .trainer_state import TrainerState, read_trainer_state, trainer_state_path, write_trainer_state
from .training import InnerSchedule, LocalTraining

# Ledger rejections and upload refusals after which the next window is simply tried (D51, D59).
NEXT_WINDOW_REJECTIONS = {"wrong_window", "window_full", "duplicate_contribution", "duplicate_blob", "insufficient_balance"}
NEXT_WINDOW_REFUSALS = {"quota_exceeded", "insufficient_storage"}
# The last u64 is the state file's "no window yet" (TrainerState), and has no next window.
LAST_WINDOW = (1 << 64) - 2
# How long a contribution may take to commit before the trainer moves on (the node's window
# length is untrusted: it must not hold the trainer in the polling loop for ever).
MAX_COMMIT_WAIT_S = 600.0


@dataclass
class Task:
    """The genesis task as this trainer runs it: spec, layout, corpus and split."""

    reply: TaskReply
    layout: ModelLayout
    corpus: Corpus
    split: numerics.DataSplit

    @classmethod
    def load(cls, reply: TaskReply, corpus_directory: str) -> Task:
        spec = reply.spec
        layout = ModelLayout(spec.model.context_bytes, spec.model.embedding_dim, tuple(spec.model.hidden_units), spec.model.vocabulary)
        text = read_corpus(corpus_directory, spec.corpus.sha256, spec.corpus.byte_count)
        if len(text) <= 40 * (layout.context_bytes + 1):
            raise TrainerError(f"task.model.context_bytes {layout.context_bytes} is too long for a corpus of {len(text)} bytes")
        return cls(reply, layout, Corpus(text, layout.context_bytes), numerics.DataSplit(len(text), layout.context_bytes))


def window_deadline(opened_at_ms: int, window_ms: int, margin_ms: int | None) -> tuple[float, float]:
    """(window seconds, deadline in Unix seconds): the window's close in consensus time less a
    margin to upload and commit (default max(4 s, window/6)), as the Swift trainer's clock."""
    window_ms = max(1, min(window_ms, 1 << 62))
    margin = margin_ms if margin_ms is not None else max(4_000, window_ms // 6)
    return window_ms / 1000, (min(opened_at_ms, 1 << 62) + window_ms - margin) / 1000


EAGER_STARTS = ("all", "own", "none")


class Trainer:
    def __init__(self, client: NodeClient, key: SigningKey, key_path: str, corpus_directory: str, threads: int,
                 margin_ms: int | None = None, say: Callable[[str], None] | None = None, progress: bool = True, eager: str = "own") -> None:
        if eager not in EAGER_STARTS:
            raise ValueError(f"eager must be one of {', '.join(EAGER_STARTS)}, not {eager!r}")
        self.eager = eager
        self.client = client
        self.key = key
        self.say = say or (lambda line: print(line, flush=True))
        self.progress = progress and sys.stderr.isatty()
        self.margin_ms = margin_ms
        torch.set_num_threads(max(1, threads))
        self.chain = retry_unreachable(client.chain, "GET /status", log=self.say)
        self.task = Task.load(retry_unreachable(client.task, "GET /v1/task", log=self.say), corpus_directory)
        spec = self.task.reply.spec
        self.state_path = trainer_state_path(key_path)
        self.state = read_trainer_state(self.state_path, self.task.layout.parameter_count)
        self.training = LocalTraining(ByteMLP(self.task.layout, np.zeros(self.task.layout.parameter_count, dtype=np.float32)),
                                      self.task.corpus, spec.training.weight_decay)
        self.schedule = InnerSchedule.from_training_spec({
            "learning_rate": spec.training.learning_rate, "learning_rate_floor": spec.training.learning_rate_floor,
            "warmup_steps": spec.training.warmup_steps, "decay_start_window": spec.training.decay_start_window,
            "decay_windows": spec.training.decay_windows})
        self.compression = CompressionParameters(chunk_size=spec.compression.chunk_size, top_k=spec.compression.top_k,
                                                 value_bits=8, index_bits=16)
        self.last_sent: tuple[int, PseudoGradient] | None = None
        self.pending: list[tuple[bytes, int]] = []
        # A contribution whose commit was not seen in time: (record id, window, Δ sent, residual).
        # If it lands after all, its state is adopted before the next window trains.
        self.unconfirmed: tuple[bytes, int, PseudoGradient, np.ndarray] | None = None
        self.warned_ahead = False
        self.tokens_per_second: list[float] = []

    def _retry(self, what: str, call):  # type: ignore[no-untyped-def]
        """A call to the node, retried on connection errors with backoff (6 tries, as `cairn submit`)."""
        return retry_unreachable(call, what, log=self.say)

    def run(self, windows: int, follow: bool) -> int:
        """Contributes to `windows` windows (or forever with `follow`); returns how many it submitted."""
        spec = self.task.reply.spec
        self.say(f"cairn-client submit: trainer {self.key.public_key.hex()[:8]}… on {self.chain.hex()[:8]}…; task {spec.name}, "
                 f"{self.task.layout.parameter_count} parameters, PyTorch {torch.__version__} on {torch.get_num_threads()} thread(s); "
                 f"state {self.state_path}")
        done, tried = 0, None
        while follow or done < windows:
            self.report_scores()
            self.confirm_late_commit()
            model = self._retry("GET /v1/model", self.client.model)
            if model.window > LAST_WINDOW:
                raise TrainerError(f"the node reports window {model.window}, past the last window a trainer state can name")
            if self.state.last_window is not None and model.window < self.state.last_window and not self.warned_ahead:
                self.warned_ahead = True
                self.say(f"{self.state_path} names window {self.state.last_window}, ahead of the node's window {model.window}: waiting for "
                         "it; if the state belongs to another chain, move it away to start with empty error feedback")
            last = max([w for w in (self.state.last_window, tried) if w is not None], default=None)
            if last is not None and model.window <= last:
                time.sleep(0.5)  # one contribution per window: wait for the next
                continue
            tried = model.window
            try:
                blob = self._retry("GET /v1/blobs", lambda blob_id=model.blob: self.client.blob(blob_id))
                if model_hash(blob) != model.model_hash:
                    raise TrainerError(f"the model blob {model.blob.hex()} does not hash to {model.model_hash.hex()}")
                theta = decode_model(blob, spec.name, spec.model)
            except Exception as error:  # a damaged or non-finite model is reported, not crashed on (D59)
                self.say(f"window {model.window}: the model {model.model_hash.hex()[:12]}… cannot be used ({error}); "
                         "waiting for the next finite model")
                continue
            try:
                line = self.train_and_submit(model.window, theta, window_deadline(model.window_opened_at_ms, model.window_ms, self.margin_ms))
            except RecordRejected as rejected:
                if rejected.reason == "unknown_trainer":
                    raise TrainerError(f"{self.key.public_key.hex()[:8]}… is not a registered trainer; run "
                                       "`python -m cairn_client register --node URL --key KEY --name NAME` first") from None
                if rejected.reason not in NEXT_WINDOW_REJECTIONS:
                    raise
                self.say(f"window {model.window}: nothing submitted ({rejected.reason}: {rejected.detail}); trying again in the next window")
                continue
            except APIError as refused:
                if refused.code == "not_registered":
                    raise TrainerError(f"{self.key.public_key.hex()[:8]}… is not a registered trainer; register it first") from None
                if refused.code not in NEXT_WINDOW_REFUSALS:
                    raise
                self.say(f"window {model.window}: nothing submitted ({refused}); trying again in the next window")
                continue
            except RecordTimeout as timeout:
                self.say(f"window {model.window}: no commit seen in time ({timeout}); checked again before the next window")
                continue
            except InvalidReply as invalid:
                self.say(f"window {model.window}: the node's reply is not valid ({invalid}); trying again in the next window")
                continue
            if line is not None:
                self.say(line)
                done += 1
        # A contribution is judged at the close of the window after the one it landed in.
        window_s = min(self._retry("GET /v1/model", self.client.model).window_ms / 1000, MAX_COMMIT_WAIT_S)
        deadline = time.monotonic() + max(60.0, 4 * window_s)
        while self.pending and time.monotonic() < deadline:
            time.sleep(1)
            self.report_scores()
        for ident, window in self.pending:
            self.say(f"contribution {ident.hex()[:8]} (window {window}): not finalized yet; see GET /v1/windows/{window} later")
        return done

    def train_and_submit(self, window: int, theta: np.ndarray, clock: tuple[float, float]) -> str | None:
        spec = self.task.reply.spec
        window_seconds, deadline = clock
        assignment = self._retry("GET /v1/assignment", lambda: self.client.assignment(self.key.public_key, window))
        # Training starts at once from θ less its own pending Δ; the prediction from the published
        # Δs (`--eager all`) runs meanwhile and the model in training moves onto it when it
        # arrives, keeping the steps made (D67, as `cairn submit`).
        origin, start_note = self.own_origin(window, theta)
        prediction: Future | None = None
        executor = None
        if self.eager == "all" and window > 0:
            executor = ThreadPoolExecutor(max_workers=1)
            prediction = executor.submit(self.timed_prediction, window, theta)
        self.training.adopt(origin)
        batch, maximum = spec.training.batch_size, spec.training.max_inner_steps
        shard = self.task.split.shard(assignment.beacon, self.key.public_key, window, min(assignment.contexts, maximum * batch))
        if len(shard) < batch:
            self.say(f"window {window}: the assignment has {len(shard)} contexts, fewer than one batch of {batch}; skipped")
            return None
        budget = min(window_seconds, max(0.0, deadline - time.time()))
        total_steps = len(shard) // batch
        bar = None
        if self.progress:
            from tqdm import tqdm
            bar = tqdm(total=total_steps, unit="step", desc=f"window {window}", leave=False, file=sys.stderr, mininterval=0.5)
        start = time.monotonic()
        steps, loss = 0, float("nan")
        try:
            # At least one step, so a trainer that got the model late still contributes.
            while (steps + 1) * batch <= len(shard) and (steps == 0 or time.monotonic() - start < budget):
                if prediction is not None and prediction.done():
                    try:
                        predicted, count, seconds = prediction.result()
                        self.training.rebase(origin, predicted)
                        origin = predicted
                        start_note = f"the model less the pending step of {count} Δ(s) (predicted in {seconds:.2f} s, from step {steps})"
                    except Exception as error:  # any failure (a node gone, a blob pruned or damaged) costs only the prediction
                        self.say(f"window {window}: cannot predict the pending step from window {window - 1}'s Δs ({error}); {start_note} instead")
                    prediction = None
                rate = self.schedule.rate(window, self.training.optimizer.step)
                loss = self.training.step(shard[steps * batch:(steps + 1) * batch], rate)
                steps += 1
                if bar is not None and steps % 10 == 0:
                    bar.update(10)
                    bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{steps * batch / max(time.monotonic() - start, 1e-9):.0f}", refresh=False)
        finally:
            if bar is not None:
                bar.close()
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
        seconds = time.monotonic() - start
        self.tokens_per_second.append(steps * batch / max(seconds, 1e-9))
        delta = (origin - self.training.parameters()).astype(np.float32)
        # The loss is the last batch's before its step; that step can still make θ non-finite.
        if not (np.isfinite(loss) and np.isfinite(delta).all()):
            self.training.adopt(theta, reset_optimizer=True)
            self.say(f"window {window}: training diverged from the window's model (loss {loss}); waiting for the next finite model")
            return None
        compressed, residual = compress_with_feedback(delta, self.state.residual, spec.compression.chunk_size, spec.compression.top_k,
                                                      spec.training.feedback_decay)
        blob = encode_pseudo_gradient(compressed, spec.compression.top_k)
        receipt = self._retry("PUT blob", lambda: self.client.put_blob(blob, self.key, self.chain))
        body = Contribution(base_window=window, blob=receipt.id, blob_size=len(blob), compression=self.compression,
                            assignment=assignment_digest(assignment.beacon, self.key.public_key), inner_steps=min(steps, 0xFFFFFFFF))
        record = self._retry("GET /v1/accounts", lambda: self.client.sign(body, self.key, self.chain))
        (ident,) = self._retry("POST /v1/records", lambda: self.client.submit_records([record]))
        try:
            self.client.wait_for_record(ident, timeout=min(max(60.0, window_seconds), MAX_COMMIT_WAIT_S))
        except RecordTimeout:
            self.unconfirmed = (ident, window, compressed, residual)
            raise
        self.adopt_sent(ident, window, compressed, residual)
        return (f"window {window}  steps {steps}  utilization {seconds / window_seconds:.3f} ({seconds:.1f} s of a {window_seconds:.0f} s window)  "
                f"loss {loss:.4f}  1 contribution(s), {len(blob)} bytes  {steps * batch / max(seconds, 1e-9):.0f} tok/s  from {start_note}")

    def own_origin(self, window: int, theta: np.ndarray) -> tuple[np.ndarray, str]:
        """Where window `window`'s training starts before any prediction (D67): θ less this
        trainer's own pending Δ (`own`, and `all` until its prediction arrives), or θ itself
        (`none`, or nothing pending), with a few words for the window's line."""
        if self.eager == "none" or self.last_sent is None or self.last_sent[0] + 1 != window:
            return theta, "the model"
        origin = theta.copy()
        indices, values = self.last_sent[1].entries()
        rate = np.float32(self.task.reply.spec.training.outer_learning_rate)
        origin[indices] = (origin[indices] - (rate * values).astype(np.float32)).astype(np.float32)
        return origin, "the model less its own pending Δ"

    def timed_prediction(self, window: int, theta: np.ndarray) -> tuple[np.ndarray, int, float]:
        began = time.monotonic()
        predicted, count = self.predicted_model(window, theta)
        return predicted, count, time.monotonic() - began

    def predicted_model(self, window: int, theta: np.ndarray) -> tuple[np.ndarray, int]:
        """θ_{window+1} as the ledger would compute it if it accepted window − 1's contributions
        trained from that window's model by this trainer and by the trainers the ledger accepted in
        window − 2 (the latest judged window; Δs not yet judged are untrusted), weighted by those
        accepted scores; and how many it used."""
        spec = self.task.reply.spec
        current, previous = self.client.window(window), self.client.window(window - 1)
        # Accepted scores of the latest judged window, by author: who is trusted, and its weight.
        scores = trusted_scores(self.client.window(window - 2)) if window >= 2 else {}
        known = sorted(scores.values())
        own_weight = scores.get(self.key.public_key, known[(len(known) - 1) // 2] if known else 1)
        chosen = []
        for contribution in previous.contributions:
            weight = own_weight if contribution.author == self.key.public_key else scores.get(contribution.author)
            if contribution.base_window == window - 1 and weight is not None:
                chosen.append((contribution.id, contribution.blob, weight))
        # The ledger applies the first `max_aggregated` by id: only those blobs are fetched.
        pending, weights = [], []
        for ident, blob_id, weight in sorted(chosen)[: max(1, spec.training.max_aggregated)]:
            blob = self.client.blob(blob_id, max_bytes=64 * 1024 * 1024)
            pending.append((ident, decode_pseudo_gradient(blob, self.task.layout.parameter_count, spec.compression.chunk_size,
                                                          spec.compression.top_k)))
            weights.append(weight)
        if not pending:
            raise ValueError(f"window {window - 1} has no contribution of a trusted trainer")
        return predict_pending_step(theta, current.clip_norm, pending, spec.training, weights), len(pending)

    def adopt_sent(self, ident: bytes, window: int, compressed: PseudoGradient, residual: np.ndarray) -> None:
        """A committed contribution: the residual moves on (a rejected one loses nothing) and the
        next window starts from the model less this Δ."""
        self.state = TrainerState(window, residual)
        write_trainer_state(self.state_path, self.state)
        self.last_sent = (window, compressed)
        self.pending.append((ident, window))

    def confirm_late_commit(self) -> None:
        """A contribution whose commit was not seen in time may have landed since: if it did,
        adopt its state now, so its entries are not sent twice through the error feedback."""
        if self.unconfirmed is None:
            return
        ident, window, compressed, residual = self.unconfirmed
        self.unconfirmed = None
        try:
            reply = self.client.record(ident)
        except (APIError, NodeUnreachable, InvalidReply):
            return
        if not reply.rejected:
            self.say(f"window {window}: its contribution {ident.hex()[:8]} committed after all (position {reply.position})")
            self.adopt_sent(ident, window, compressed, residual)

    def report_scores(self) -> None:
        """Prints the outcome of each pending contribution that has one."""
        waiting = []
        for ident, window in self.pending:
            outcome = None
            for w in (window, window + 1) if window < LAST_WINDOW else (window,):
                try:
                    reply = self.client.window(w)
                except (APIError, NodeUnreachable, InvalidReply):
                    continue
                mine = next((c for c in reply.contributions if c.id == ident), None)
                if mine is not None and mine.outcome is not None:
                    outcome = mine.outcome
            if outcome is None:
                waiting.append((ident, window))
                continue
            if outcome.score_ppb is not None:
                self.say(f"contribution {ident.hex()[:8]} (window {window}): accepted score {outcome.score_ppb / 1e9:+.6f} "
                         f"(relative loss improvement), indicator {outcome.indicator:+d}, quorum of {len(outcome.members)}")
            else:
                self.say(f"contribution {ident.hex()[:8]} (window {window}): no score ({outcome.no_score or '?'})")
            if outcome.copycat_of is not None:
                self.say(f"contribution {ident.hex()[:8]} (window {window}): marked a copycat of {outcome.copycat_of.hex()[:8]}")
        self.pending = waiting

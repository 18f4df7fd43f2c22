"""The node's JSON replies as typed, checked values (Sources/CairnAPI/*.swift).

Keys are the Swift `CodingKeys` (snake_case); optionals the node leaves out when nil. Each
`parse` checks the types and ranges of the Swift fields (UInt64, Int, UInt32, hex digests and
keys) and raises `InvalidReply` naming the field: replies are untrusted.
"""

from __future__ import annotations

from dataclasses import dataclass

from .json_fields import Obj
from .wire import DIGEST_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES

__all__ = [
    "AccountReply",
    "AssignmentReply",
    "BlobReceipt",
    "CheckpointReply",
    "CommittedRecords",
    "ContributionReply",
    "EvaluationReply",
    "FlagReply",
    "Leaderboard",
    "ModelReply",
    "OutcomeReply",
    "RatingParameters",
    "RatingReply",
    "RecordReply",
    "RewardsReply",
    "StatusReply",
    "TrainerResultReply",
    "ValidatorPayoutReply",
    "WindowReply",
]

# Bounds on list replies: the node caps a window's contributions and trainers at 10,000 and the
# leaderboard at 100,000 (TrainingRoutes.swift); anything longer is not this API.
_MAX_LIST = 100_000
_MAX_VALIDATORS = 100_000
_MAX_SIM_HASH_BYTES = 128


@dataclass(frozen=True)
class StatusReply:
    """``GET /status``: where this node stands. `genesis_hash` is the chain id records are signed for."""

    chain_id: str
    genesis_hash: bytes
    version: str
    node: str
    validator_index: int
    round: int
    last_committed_wave: int
    committed_leaders: int
    delivered: int
    sequence_hash: bytes
    state_root: bytes
    window: int
    peers: int
    catching_up: bool
    pending_records: int

    @classmethod
    def parse(cls, o: Obj) -> StatusReply:
        return cls(
            chain_id=o.text("chain_id", 256),
            genesis_hash=o.hex("genesis_hash", DIGEST_BYTES),
            version=o.text("version", 256),
            node=o.text("node", 256),
            validator_index=o.sint("validator_index"),
            round=o.uint("round"),
            last_committed_wave=o.uint("last_committed_wave"),
            committed_leaders=o.uint("committed_leaders"),
            delivered=o.uint("delivered"),
            sequence_hash=o.hex("sequence_hash", DIGEST_BYTES),
            state_root=o.hex("state_root", DIGEST_BYTES),
            window=o.uint("window"),
            peers=o.uint("peers", 63),
            catching_up=o.boolean("catching_up"),
            pending_records=o.uint("pending_records", 63),
        )


@dataclass(frozen=True)
class ModelReply:
    """``GET /v1/model``: the model the open window trains from, and the window's clock (Unix ms)."""

    window: int
    model_hash: bytes
    blob: bytes
    """The model blob's id (fetch it with `NodeClient.blob`)."""
    window_opened_at_ms: int
    window_ms: int
    consensus_time_ms: int

    @classmethod
    def parse(cls, o: Obj) -> ModelReply:
        return cls(
            window=o.uint("window"),
            model_hash=o.hex("model_hash", DIGEST_BYTES),
            blob=o.hex("blob", DIGEST_BYTES),
            window_opened_at_ms=o.uint("window_opened_at_ms"),
            window_ms=o.uint("window_ms"),
            consensus_time_ms=o.uint("consensus_time_ms"),
        )

    @property
    def window_closes_at_ms(self) -> int:
        """When the window closes in consensus time (Unix ms); saturating, as values come from a node."""
        return min(self.window_opened_at_ms + self.window_ms, (1 << 64) - 1)


@dataclass(frozen=True)
class AssignmentReply:
    """``GET /v1/assignment/{trainer}``: the trainer's data for a window. `contexts` = inner steps ×
    batch size; the contribution's assignment digest is `records.assignment_digest(beacon, trainer)`."""

    window: int
    trainer: bytes
    beacon: bytes
    contexts: int

    @classmethod
    def parse(cls, o: Obj) -> AssignmentReply:
        return cls(
            window=o.uint("window"),
            trainer=o.hex("trainer", PUBLIC_KEY_BYTES),
            beacon=o.hex("beacon", DIGEST_BYTES),
            # Genesis bounds a shard at 2^24 contexts.
            contexts=o.uint("contexts", maximum=1 << 24),
        )


@dataclass(frozen=True)
class AccountReply:
    """``GET /v1/accounts/{key}``: balance in base units and the nonce the next record must carry."""

    account: bytes
    balance: int
    nonce: int

    @classmethod
    def parse(cls, o: Obj) -> AccountReply:
        return cls(account=o.hex("account", PUBLIC_KEY_BYTES), balance=o.uint("balance"), nonce=o.uint("nonce"))


@dataclass(frozen=True)
class BlobReceipt:
    """``PUT /v1/blobs/{id}``: what was stored (`created`: 201, new here; False: 200, already stored)."""

    id: bytes
    size: int
    created: bool

    @classmethod
    def parse(cls, o: Obj, created: bool) -> BlobReceipt:
        return cls(id=o.hex("id", DIGEST_BYTES), size=o.uint("size", 63), created=created)


@dataclass(frozen=True)
class RecordReply:
    """``GET /v1/records/{id}``: a committed record's position and outcome (`status` is
    ``committed`` or ``rejected``; `reason` the rejection's stable code)."""

    id: bytes
    status: str
    position: int
    reason: str | None = None
    detail: str | None = None

    @property
    def rejected(self) -> bool:
        return self.status == "rejected"

    @classmethod
    def parse(cls, o: Obj) -> RecordReply:
        status = o.text("status", 64)
        if status not in ("committed", "rejected"):
            raise o.fail("status", f"'{status}' is neither 'committed' nor 'rejected'")
        return cls(
            id=o.hex("id", DIGEST_BYTES),
            status=status,
            position=o.uint("position"),
            reason=o.optional("reason", lambda k: o.text(k, 256)),
            detail=o.optional("detail", o.text),
        )


@dataclass(frozen=True)
class CommittedRecords:
    """``GET /v1/committed?from=P&limit=N``: committed record ids in sequence order, and where to go on."""

    records: list[bytes]
    next: int

    @classmethod
    def parse(cls, o: Obj) -> CommittedRecords:
        return cls(records=o.hexes("records", DIGEST_BYTES, max_items=5000), next=o.uint("next"))


@dataclass(frozen=True)
class CheckpointReply:
    """``GET /v1/checkpoints/{k}``: window k's checkpoint certificate."""

    window: int
    state_root: bytes
    sequence_hash: bytes
    model_hash: bytes
    signers: list[int]
    nonces: list[int]
    signatures: list[bytes]

    @classmethod
    def parse(cls, o: Obj) -> CheckpointReply:
        reply = cls(
            window=o.uint("window"),
            state_root=o.hex("state_root", DIGEST_BYTES),
            sequence_hash=o.hex("sequence_hash", DIGEST_BYTES),
            model_hash=o.hex("model_hash", DIGEST_BYTES),
            signers=o.uints("signers", 32, max_items=_MAX_VALIDATORS),
            nonces=o.uints("nonces", 64, max_items=_MAX_VALIDATORS),
            signatures=o.hexes("signatures", SIGNATURE_BYTES, max_items=_MAX_VALIDATORS),
        )
        if not len(reply.signers) == len(reply.nonces) == len(reply.signatures):
            raise o.fail("signers", "signers, nonces and signatures differ in length")
        return reply


@dataclass(frozen=True)
class EvaluationReply:
    """One validator's evaluation of a contribution: its commitment and, once revealed, its values."""

    validator: int
    committed: bool
    revealed: bool
    flags: int | None
    own_before: float | None
    own_after: float | None
    random_before: float | None
    random_after: float | None
    sim_hash: bytes | None

    @classmethod
    def parse(cls, o: Obj) -> EvaluationReply:
        return cls(
            validator=o.uint("validator", 32),
            committed=o.boolean("committed"),
            revealed=o.boolean("revealed"),
            flags=o.optional("flags", lambda k: o.uint(k, 32)),
            own_before=o.optional("own_before", o.number),
            own_after=o.optional("own_after", o.number),
            random_before=o.optional("random_before", o.number),
            random_after=o.optional("random_after", o.number),
            sim_hash=o.optional("sim_hash", lambda k: o.hex(k, max_bytes=_MAX_SIM_HASH_BYTES)),
        )


@dataclass(frozen=True)
class OutcomeReply:
    """A contribution's finalized outcome; scores are parts per 10^9 of the loss before."""

    members: list[int]
    score_ppb: int | None
    own_score_ppb: int | None
    indicator: int
    no_score: str | None
    copycat_of: bytes | None
    flags: int

    @classmethod
    def parse(cls, o: Obj) -> OutcomeReply:
        return cls(
            members=o.uints("members", 32, max_items=_MAX_VALIDATORS),
            score_ppb=o.optional("score_ppb", o.sint),
            own_score_ppb=o.optional("own_score_ppb", o.sint),
            indicator=o.sint("indicator"),
            no_score=o.optional("no_score", lambda k: o.text(k, 256)),
            copycat_of=o.optional("copycat_of", lambda k: o.hex(k, DIGEST_BYTES)),
            flags=o.uint("flags", 32),
        )


@dataclass(frozen=True)
class ContributionReply:
    """One contribution of a window, with every validator's evaluation and the outcome (None until
    the close of the next window finalizes it)."""

    id: bytes
    author: bytes
    base_window: int
    blob: bytes
    blob_size: int
    beacon: bytes
    """The evaluation seed: the coin of the wave that committed the contribution."""
    inner_steps: int
    """Steps the trainer claims; the own-data sample is drawn from their contexts."""
    evaluations: list[EvaluationReply]
    outcome: OutcomeReply | None

    @classmethod
    def parse(cls, o: Obj) -> ContributionReply:
        return cls(
            id=o.hex("id", DIGEST_BYTES),
            author=o.hex("author", PUBLIC_KEY_BYTES),
            base_window=o.uint("base_window"),
            blob=o.hex("blob", DIGEST_BYTES),
            blob_size=o.uint("blob_size"),
            beacon=o.hex("beacon", DIGEST_BYTES),
            inner_steps=o.uint("inner_steps", 32),
            evaluations=[EvaluationReply.parse(e) for e in o.objs("evaluations", _MAX_VALIDATORS)],
            outcome=OutcomeReply.parse(o.obj("outcome")) if o.has("outcome") else None,
        )


@dataclass(frozen=True)
class FlagReply:
    """A validator's counted faults in a window."""

    validator: int
    unrevealed: int
    outside_quorum: int
    deviant: int

    @classmethod
    def parse(cls, o: Obj) -> FlagReply:
        return cls(
            validator=o.uint("validator", 32),
            unrevealed=o.uint("unrevealed", 32),
            outside_quorum=o.uint("outside_quorum", 32),
            deviant=o.uint("deviant", 32),
        )


@dataclass(frozen=True)
class TrainerResultReply:
    """A trainer's result in a finalized window: rank, ratings (10^-9 units and decimals), payout."""

    trainer: bytes
    name: str | None
    contribution: bytes | None
    score_ppb: int | None
    rank_score_ppb: int | None
    rank: int
    mu_before_nano: int
    sigma_before_nano: int
    mu_after_nano: int
    sigma_after_nano: int
    mu_before: float
    sigma_before: float
    mu_after: float
    sigma_after: float
    ordinal_after: float
    bma: float
    final: float
    penalties: list[str]
    payout: int

    @classmethod
    def parse(cls, o: Obj) -> TrainerResultReply:
        return cls(
            trainer=o.hex("trainer", PUBLIC_KEY_BYTES),
            name=o.optional("name", lambda k: o.text(k, 64)),
            contribution=o.optional("contribution", lambda k: o.hex(k, DIGEST_BYTES)),
            score_ppb=o.optional("score_ppb", o.sint),
            rank_score_ppb=o.optional("rank_score_ppb", o.sint),
            rank=o.uint("rank", 32),
            mu_before_nano=o.sint("mu_before_nano"),
            sigma_before_nano=o.sint("sigma_before_nano"),
            mu_after_nano=o.sint("mu_after_nano"),
            sigma_after_nano=o.sint("sigma_after_nano"),
            mu_before=o.number("mu_before"),
            sigma_before=o.number("sigma_before"),
            mu_after=o.number("mu_after"),
            sigma_after=o.number("sigma_after"),
            ordinal_after=o.number("ordinal_after"),
            bma=o.number("bma"),
            final=o.number("final"),
            penalties=o.texts("penalties", max_items=64, max_length=64),
            payout=o.uint("payout"),
        )


@dataclass(frozen=True)
class ValidatorPayoutReply:
    validator: int
    evaluations: int
    payout: int

    @classmethod
    def parse(cls, o: Obj) -> ValidatorPayoutReply:
        return cls(validator=o.uint("validator", 32), evaluations=o.uint("evaluations", 63), payout=o.uint("payout"))


@dataclass(frozen=True)
class RewardsReply:
    """A window's emission and where it went."""

    emitted: int
    trainers_paid: int
    validators_paid: int
    burned: int
    validators: list[ValidatorPayoutReply]

    @classmethod
    def parse(cls, o: Obj) -> RewardsReply:
        return cls(
            emitted=o.uint("emitted"),
            trainers_paid=o.uint("trainers_paid"),
            validators_paid=o.uint("validators_paid"),
            burned=o.uint("burned"),
            validators=[ValidatorPayoutReply.parse(v) for v in o.objs("validators", _MAX_VALIDATORS)],
        )


@dataclass(frozen=True)
class WindowReply:
    """``GET /v1/windows/{k}``: how window k was judged (`status`: open, closed or finalized)."""

    window: int
    status: str
    model_hash: bytes | None
    model_blob: bytes | None
    """The model's blob id, and the norm the outer step that made it clipped every Δ to (0: none)."""
    clip_norm: float | None
    contribution_count: int
    """Contributions the ledger accepted in the window (the evaluation step divides by it)."""
    closing_beacon: bytes | None
    contributions: list[ContributionReply]
    validator_flags: list[FlagReply]
    heldout_loss: float | None
    model_step_skipped: str | None
    trainers: list[TrainerResultReply]
    rewards: RewardsReply | None

    @classmethod
    def parse(cls, o: Obj) -> WindowReply:
        status = o.text("status", 64)
        if status not in ("open", "closed", "finalized"):
            raise o.fail("status", f"'{status}' is not open, closed or finalized")
        return cls(
            window=o.uint("window"),
            status=status,
            model_hash=o.optional("model_hash", lambda k: o.hex(k, DIGEST_BYTES)),
            model_blob=o.optional("model_blob", lambda k: o.hex(k, DIGEST_BYTES)),
            clip_norm=o.optional("clip_norm", o.number),
            contribution_count=o.uint("contribution_count"),
            closing_beacon=o.optional("closing_beacon", lambda k: o.hex(k, DIGEST_BYTES)),
            contributions=[ContributionReply.parse(c) for c in o.objs("contributions", _MAX_LIST)],
            validator_flags=[FlagReply.parse(f) for f in o.objs("validator_flags", _MAX_VALIDATORS)],
            heldout_loss=o.optional("heldout_loss", o.number),
            model_step_skipped=o.optional("model_step_skipped", lambda k: o.text(k, 64)),
            trainers=[TrainerResultReply.parse(t) for t in o.objs("trainers", _MAX_LIST)],
            rewards=RewardsReply.parse(o.obj("rewards")) if o.has("rewards") else None,
        )


@dataclass(frozen=True)
class RatingParameters:
    mu: float
    sigma: float
    beta: float
    tau: float

    @classmethod
    def parse(cls, o: Obj) -> RatingParameters:
        return cls(mu=o.number("mu"), sigma=o.number("sigma"), beta=o.number("beta"), tau=o.number("tau"))


@dataclass(frozen=True)
class RatingReply:
    """One trainer on the leaderboard."""

    trainer: bytes
    name: str | None
    mu: float
    sigma: float
    ordinal: float
    bma: float
    final: float
    last_payout: int
    total_payout: int
    rated_windows: int
    active: bool

    @classmethod
    def parse(cls, o: Obj) -> RatingReply:
        return cls(
            trainer=o.hex("trainer", PUBLIC_KEY_BYTES),
            name=o.optional("name", lambda k: o.text(k, 64)),
            mu=o.number("mu"),
            sigma=o.number("sigma"),
            ordinal=o.number("ordinal"),
            bma=o.number("bma"),
            final=o.number("final"),
            last_payout=o.uint("last_payout"),
            total_payout=o.uint("total_payout"),
            rated_windows=o.uint("rated_windows", 32),
            active=o.boolean("active"),
        )


@dataclass(frozen=True)
class Leaderboard:
    """``GET /v1/ratings``: every rated trainer, best ordinal first."""

    window: int
    rating: RatingParameters
    trainers: list[RatingReply]

    @classmethod
    def parse(cls, o: Obj) -> Leaderboard:
        return cls(
            window=o.uint("window"),
            rating=RatingParameters.parse(o.obj("rating")),
            trainers=[RatingReply.parse(t) for t in o.objs("trainers", _MAX_LIST)],
        )

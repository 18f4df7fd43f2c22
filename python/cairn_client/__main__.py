"""``python -m cairn_client``: train and submit from PyTorch, register a trainer key, make a key,
and cross-check a window's evaluations against the validators'.

    python -m cairn_client submit   --node URL --key FILE [--windows N | --follow] [--threads T]
    python -m cairn_client register --node URL --key FILE --name NAME
    python -m cairn_client evaluate --node URL --window K [--to K2] [--json FILE]
    python -m cairn_client keygen   --out FILE
    python -m cairn_client bench    [--threads 1,2] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter

from .api import APIError, NodeClient, NodeUnreachable, RecordRejected, RecordTimeout
from .blob_io import BlobError
from .corpus import DEFAULT_DIRECTORY, CorpusError
from .errors import TrainerError
from .json_fields import InvalidReply
from .keys import KeyFileError, SigningKey, read_signing_key, write_signing_key
from .records import Register, valid_register_name
from .trainer_state import TrainerStateFileError


def _client(args: argparse.Namespace) -> NodeClient:
    return NodeClient(args.node, log=lambda line: print(line, file=sys.stderr, flush=True))


def cmd_submit(args: argparse.Namespace) -> int:
    from .trainer import Trainer

    if args.windows is not None and args.windows < 1:
        raise SystemExit("--windows must be at least 1")
    if not 1 <= args.threads <= 256:
        raise SystemExit("--threads must be 1…256")
    if args.margin_ms is not None and not 0 <= args.margin_ms <= 3_600_000:
        raise SystemExit("--margin-ms must be 0…3600000")
    trainer = Trainer(_client(args), read_signing_key(args.key), args.key, args.corpus, args.threads, args.margin_ms,
                      progress=not args.no_progress, eager=args.eager)
    done = trainer.run(args.windows or 1, args.follow)
    rates = trainer.tokens_per_second
    if rates:
        print(f"submitted {done} contribution(s); training {sum(rates) / len(rates):.0f} tok/s mean over {len(rates)} window(s)", flush=True)
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    if not valid_register_name(args.name):
        raise SystemExit(f"--name '{args.name}' must be 1–32 bytes of [a-z0-9-]")
    client = _client(args)
    key = read_signing_key(args.key)
    reply = client.submit_and_wait(Register(name=args.name), key, timeout=args.timeout)
    print(f"registered {key.public_key.hex()[:8]}… as {args.name} (record {reply.id.hex()[:8]}, position {reply.position})")
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    if os.path.exists(args.out):
        raise SystemExit(f"{args.out} exists; refusing to overwrite a key (move it away first)")
    key = SigningKey.generate()
    write_signing_key(key, args.out)
    print(f"{args.out}: trainer key {key.public_key.hex()}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .crosscheck import CrossCheck

    last = args.to if args.to is not None else args.window
    if last < args.window or last - args.window > 10_000:
        raise SystemExit("--to must be ≥ --window and at most 10000 windows after it")
    check = CrossCheck(_client(args), args.corpus)
    threshold = check.task.reply.spec.lsh.hamming_threshold
    checks = []
    for window in range(args.window, last + 1):
        for c in check.window(window):
            checks.append(c)
            distances = " ".join(f"v{v}:{d}{'' if v in c.members else '(not in quorum)'}" for v, d in c.torch_vs_swift.items()) or "-"
            score = "-" if c.score_ppb is None or c.torch_score_ppb is None else f"{c.torch_score_ppb - c.score_ppb:+d}"
            own = "-" if c.own_score_ppb is None or c.torch_own_score_ppb is None else f"{c.torch_own_score_ppb - c.own_score_ppb:+d}"
            print(f"window {window}  {c.contribution[:8]}  by {c.author[:8]}  PyTorch–Swift Hamming {distances}  "
                  f"Swift–Swift {c.swift_vs_swift or '-'}  score Δ {score} ppb, own Δ {own} ppb  ({c.status})", flush=True)
    torch_swift = Counter(d for c in checks for d in c.torch_vs_members.values())
    swift_swift = Counter(d for c in checks for d in c.swift_vs_swift)
    deviations = [abs(c.torch_score_ppb - c.score_ppb) for c in checks if c.score_ppb is not None and c.torch_score_ppb is not None]
    deviations += [abs(c.torch_own_score_ppb - c.own_score_ppb) for c in checks if c.own_score_ppb is not None and c.torch_own_score_ppb is not None]
    beyond = sum(n for d, n in torch_swift.items() if d > threshold)
    summary = {"windows": [args.window, last], "contributions": len(checks), "threshold": threshold,
               "torch_vs_swift": dict(sorted(torch_swift.items())), "swift_vs_swift": dict(sorted(swift_swift.items())),
               "beyond_threshold": beyond, "max_score_deviation_ppb": max(deviations, default=None),
               "tolerance_ppb": args.tolerance_ppb, "checks": [c.as_json() for c in checks]}
    print(f"PyTorch–Swift Hamming distances to quorum members {dict(sorted(torch_swift.items()))}; Swift–Swift {dict(sorted(swift_swift.items()))}; "
          f"{beyond} beyond T = {threshold}; largest score deviation {summary['max_score_deviation_ppb']} ppb "
          f"(tolerance {args.tolerance_ppb})")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(summary, file, indent=2)
    within = beyond == 0 and all(d <= args.tolerance_ppb for d in deviations)
    return 0 if within else 3


def cmd_bench(args: argparse.Namespace) -> int:
    """Training steps per second of this trainer's inner loop (forward, backward, AdamW over the
    flat θ) on the reference task's shapes, at each thread count: what `cairn bench training`
    reports as "training step, batch 256 (N threads): tokens/s"."""
    import time

    import numpy as np
    import torch

    from . import numerics
    from .model import ByteMLP, Corpus, ModelLayout
    from .training import LocalTraining

    layout = ModelLayout(16, 32, (512, 512))
    try:
        from .corpus import corpus_files
        parts = []
        for path in corpus_files(args.corpus):
            with open(path, "rb") as file:
                parts.append(file.read())
        text = b"".join(parts)
    except (CorpusError, OSError):
        text = bytes(np.random.default_rng(0).integers(0, 256, 1 << 20, dtype=np.uint8))
    corpus = Corpus(text, layout.context_bytes)
    split = numerics.DataSplit(len(text), layout.context_bytes)
    slots = [(s.name, s.offset, s.rows, s.columns) for s in layout.slots]
    theta = numerics.initial_parameters(slots, layout.input_width, numerics.seed("bench"))
    batch = split.training_positions(numerics.seed("bench-positions"), args.batch)
    results = {"torch": torch.__version__, "parameters": layout.parameter_count, "batch": args.batch}
    for threads in args.threads:
        torch.set_num_threads(threads)
        training = LocalTraining(ByteMLP(layout, theta), corpus, 0.0)
        for _ in range(3):
            training.step(batch, np.float32(1e-4))
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            training.step(batch, np.float32(1e-4))
            steps += 1
        rate = steps * args.batch / (time.perf_counter() - start)
        results[f"train_batch{args.batch}_threads{threads}_tokens_per_s"] = round(rate, 1)
        print(f"training step, batch {args.batch} ({threads} thread{'s' if threads > 1 else ''}): {rate:.0f} tokens/s", flush=True)
    if args.json:
        print(json.dumps(results, sort_keys=True))
    return 0


def _thread_list(text: str) -> list[int]:
    values = [int(t) for t in text.split(",") if t]
    if not values or any(not 1 <= t <= 256 for t in values):
        raise argparse.ArgumentTypeError("threads must be a comma-separated list of 1…256")
    return values


def _batch(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 4096:
        raise argparse.ArgumentTypeError("batch must be 1…4096")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cairn_client", description="Cairn's Python trainer and evaluator")
    commands = parser.add_subparsers(dest="command", required=True)

    submit = commands.add_parser("submit", help="train with PyTorch and submit a contribution each window")
    submit.add_argument("--node", required=True, help="a validator's API URL, e.g. http://127.0.0.1:26601")
    submit.add_argument("--key", required=True, help="the trainer's key file (cairn keys / keygen)")
    submit.add_argument("--windows", type=int, help="windows to contribute to (default 1)")
    submit.add_argument("--follow", action="store_true", help="contribute every window until stopped")
    submit.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="PyTorch threads (default: every core)")
    submit.add_argument("--corpus", default=DEFAULT_DIRECTORY, help=f"the genesis corpus directory (default {DEFAULT_DIRECTORY})")
    submit.add_argument("--margin-ms", type=int, help="stop training this long before the window closes (default max(4 s, window/6))")
    submit.add_argument("--eager", choices=["own", "all", "none"], default="all",
                        help="where each window's training starts (D67, D68): the model less the step the window before's Δs of trusted "
                             "trainers will make (all, the default), less this trainer's own pending Δ (own), or the model itself (none)")
    submit.add_argument("--no-progress", action="store_true", help="no progress bar")
    submit.set_defaults(run=cmd_submit)

    register = commands.add_parser("register", help="register a trainer key on the chain (pays genesis' fee)")
    register.add_argument("--node", required=True)
    register.add_argument("--key", required=True)
    register.add_argument("--name", required=True, help="1–32 bytes of [a-z0-9-]")
    register.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the commit")
    register.set_defaults(run=cmd_register)

    keygen = commands.add_parser("keygen", help="write a new trainer key file")
    keygen.add_argument("--out", required=True)
    keygen.set_defaults(run=cmd_keygen)

    evaluate = commands.add_parser("evaluate", help="re-evaluate a window's contributions in PyTorch against the validators'")
    evaluate.add_argument("--node", required=True)
    evaluate.add_argument("--window", type=int, required=True, help="a closed window whose evaluations are revealed")
    evaluate.add_argument("--to", type=int, help="last window (default: --window)")
    evaluate.add_argument("--corpus", default=DEFAULT_DIRECTORY)
    evaluate.add_argument("--tolerance-ppb", type=int, default=10_000,
                          help="genesis rewards.penalties.validator_loss_tolerance_ppb (default 10000)")
    evaluate.add_argument("--json", help="write the distances and deviations here")
    evaluate.set_defaults(run=cmd_evaluate)

    bench = commands.add_parser("bench", help="tokens/s of this trainer's training step at each thread count")
    bench.add_argument("--threads", type=_thread_list, default=[1, 2], help="comma-separated thread counts (default 1,2)")
    bench.add_argument("--seconds", type=float, default=5.0)
    bench.add_argument("--batch", type=_batch, default=256, help="contexts per step, 1…4096 (default 256)")
    bench.add_argument("--corpus", default=DEFAULT_DIRECTORY)
    bench.add_argument("--json", action="store_true", help="also print one JSON line")
    bench.set_defaults(run=cmd_bench)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (NodeUnreachable, APIError, RecordRejected, RecordTimeout, CorpusError, KeyFileError, TrainerError, InvalidReply,
            TrainerStateFileError, BlobError) as error:
        print(f"cairn_client {args.command}: {error}", file=sys.stderr)
        return 1
    except ValueError as error:  # a bound the client refuses before sending (e.g. an exhausted nonce)
        print(f"cairn_client {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

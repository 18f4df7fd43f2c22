#!/usr/bin/env python3
"""openskill.py `rate` calls per second, on the same inputs as the Swift `openskill-bench`.

    tools/openskill/setup_openskill_venv.sh
    .venv/bin/python tools/openskill/bench_openskill.py [--seconds S] [--repeats N] [--json OUT.json]
    .build/release/OpenSkillBench --python OUT.json        # side-by-side table
"""
import argparse
import json
import platform
import sys
import time
from importlib import metadata

from openskill.models import (BradleyTerryFull, BradleyTerryPart, PlackettLuce,
                              ThurstoneMostellerFull, ThurstoneMostellerPart)

MODELS = [PlackettLuce, BradleyTerryFull, BradleyTerryPart, ThurstoneMostellerFull,
          ThurstoneMostellerPart]
SCENARIOS = [("2x1", 2, 1), ("4x1", 4, 1), ("8x1", 8, 1), ("5v5", 2, 5)]


def teams_for(model, team_count, per_team):
    """The same deterministic ratings as the Swift benchmark."""
    teams, k = [], 0
    for _ in range(team_count):
        team = []
        for _ in range(per_team):
            team.append(model.rating(mu=20.0 + float((k * 7) % 11), sigma=8.333333333333334 - (k % 5) * 0.9))
            k += 1
        teams.append(team)
    return teams


def measure(model_class, team_count, per_team, seconds, repeats):
    model = model_class()
    teams = teams_for(model, team_count, per_team)
    ranks = [float(team_count - i) for i in range(team_count)]  # reverse order, as in Swift
    batch = 10
    while True:  # calibrate to ~10 ms batches
        start = time.perf_counter()
        for _ in range(batch):
            model.rate(teams, ranks=ranks)
        if time.perf_counter() - start > 0.01:
            break
        batch *= 4
    best = 0.0
    for _ in range(repeats):
        calls, elapsed = 0, 0.0
        while elapsed < seconds:
            start = time.perf_counter()
            for _ in range(batch):
                model.rate(teams, ranks=ranks)
            elapsed += time.perf_counter() - start
            calls += batch
        best = max(best, calls / elapsed)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=0.3, help="seconds per timed run")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per case; the best counts")
    ap.add_argument("--json", metavar="FILE", help="also write results as JSON for openskill-bench --python")
    args = ap.parse_args()

    results = {}
    print(f"openskill {metadata.version('openskill')} on Python {platform.python_version()}: "
          f"rate() calls per second (best of {args.repeats} x {args.seconds} s; ranks given in reverse order)")
    print(f"{'model':24}{'teams':>6}{'Python':>12}")
    for model_class in MODELS:
        name = model_class.__name__
        results[name] = {}
        for label, team_count, per_team in SCENARIOS:
            rate = measure(model_class, team_count, per_team, args.seconds, args.repeats)
            results[name][label] = rate
            print(f"{name:24}{label:>6}{rate:>12.0f}")
            sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"openskill": metadata.version("openskill"), "python": platform.python_version(),
                       "results": results}, f, indent=2)


if __name__ == "__main__":
    main()

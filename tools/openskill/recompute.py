#!/usr/bin/env python3
"""Recompute every window's trainer ratings with openskill.py 6.2.0 and compare with the ledger's.

Input: JSON lines, the first {"rating": {"mu", "sigma", "beta", "tau"}}, then one object per
finalized window: {"window": k, "trainers": [{"trainer", "rank", "rank_score_ppb" (null: ranked
as unscored), "mu_before_nano", "sigma_before_nano", "mu_after_nano", "sigma_after_nano"}]} — what
`GET /v1/windows/{k}` reports per trainer (`cairn ratings --export FILE` writes it; the ledger's
test writes it too). Trainers with rank 0 were not ranked that window.

The ledger (DECISIONS D53) rates the ranked trainers as one-player teams in key order with
PlackettLuce(mu, sigma, beta, tau), scores = rank_score / 1e9 or -2000, and stores ratings rounded
to 1e-9 (nearest-even). Here the same update runs on openskill.py and is rounded the same way;
exit status 0 when every stored rating matches within TOLERANCE nano-units (the Swift port uses
portable exp/log, openskill.py the platform's libm: a last-bit difference can move a rounding).

  tools/openskill/recompute.py EXPORT.jsonl [--tolerance N]
"""
import json
import sys

TOLERANCE = 1
UNSCORED = -2000.0


def main() -> int:
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    tolerance = TOLERANCE
    if "--tolerance" in args:
        tolerance = int(args[args.index("--tolerance") + 1])
    try:
        from openskill.models import PlackettLuce
        import importlib.metadata as md
    except ImportError:
        print("openskill is not installed: run tools/openskill/setup_openskill_venv.sh and use its python", file=sys.stderr)
        return 2
    if md.version("openskill") != "6.2.0":
        print("openskill %s found; the ledger follows 6.2.0" % md.version("openskill"), file=sys.stderr)
        return 2
    lines = [json.loads(line) for line in open(args[0]) if line.strip()]
    params = lines[0]["rating"]
    windows = lines[1:]
    worst, compared, mismatches = 0, 0, []
    for w in windows:
        ranked = sorted((t for t in w["trainers"] if t["rank"] > 0), key=lambda t: t["trainer"])
        if len(ranked) < 2:
            continue
        model = PlackettLuce(mu=params["mu"], sigma=params["sigma"], beta=params["beta"], tau=params["tau"])
        teams = [[model.rating(mu=t["mu_before_nano"] / 1e9, sigma=t["sigma_before_nano"] / 1e9)] for t in ranked]
        scores = [t["rank_score_ppb"] / 1e9 if t["rank_score_ppb"] is not None else UNSCORED for t in ranked]
        rated = model.rate(teams, scores=scores)
        for t, team in zip(ranked, rated):
            mu, sigma = round(team[0].mu * 1e9), round(team[0].sigma * 1e9)
            for name, ours, stored in (("mu", mu, t["mu_after_nano"]), ("sigma", sigma, t["sigma_after_nano"])):
                compared += 1
                diff = abs(ours - stored)
                worst = max(worst, diff)
                if diff > tolerance:
                    mismatches.append("window %d trainer %s…: %s openskill.py %d, ledger %d (nano-units)" % (w["window"], t["trainer"][:8], name, ours, stored))
    print("recompute: %d windows, %d stored ratings compared with openskill.py 6.2.0; largest difference %d nano-units (tolerance %d)" % (
        len(windows), compared, worst, tolerance))
    for m in mismatches[:20]:
        print("MISMATCH " + m)
    return 1 if mismatches or compared == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Generate extra schema-1 reference vectors with the real openskill.py 6.2.0.

Random `rate` cases (2-10 teams of 1-4 players; ranks with ties and fractional values,
scores, weights, margins, balance, tau, limit_sigma, window sizes, epsilon, lopsided
ratings that hit the truncated-Gaussian tail branches) and short histories, written in the
same format as shared/openskill/vectors.json, so the Swift VectorRunner can check them.

    .venv/bin/python tools/openskill/generate_fuzz_vectors.py --count 2000 --seed 7 > /tmp/fuzz.json
"""
import argparse
import json
import random
import sys

import openskill
from openskill.models import (BradleyTerryFull, BradleyTerryPart, PlackettLuce,
                              ThurstoneMostellerFull, ThurstoneMostellerPart)

MODELS = {
    "PlackettLuce": PlackettLuce,
    "BradleyTerryFull": BradleyTerryFull,
    "BradleyTerryPart": BradleyTerryPart,
    "ThurstoneMostellerFull": ThurstoneMostellerFull,
    "ThurstoneMostellerPart": ThurstoneMostellerPart,
}


def make_model(name, options):
    options = dict(options)
    bounds_given = "weight_bounds" in options
    bounds = options.pop("weight_bounds", None)
    model = MODELS[name](**options)
    if bounds_given:  # the compiled extension rejects None in __init__, but accepts the attribute
        model.weight_bounds = tuple(bounds) if bounds is not None else None
    return model


def params(model, name):
    p = {
        "mu": model.mu, "sigma": model.sigma, "beta": model.beta, "kappa": model.kappa,
        "tau": model.tau, "margin": model.margin, "limit_sigma": model.limit_sigma,
        "balance": model.balance,
        "weight_bounds": list(model.weight_bounds) if model.weight_bounds is not None else None,
    }
    if name.startswith("ThurstoneMosteller"):
        p["epsilon"] = model.epsilon
    if name.endswith("Part"):
        p["window_size"] = model.window_size
    return p


def rating_json(r):
    return {"mu": r.mu, "sigma": r.sigma}


def random_options(rng, name):
    o = {}
    if rng.random() < 0.25:
        scale = rng.choice([1.0, 4.0, 40.0])
        o.update(mu=25.0 * scale, sigma=25.0 * scale / 3, beta=25.0 * scale / 6, tau=25.0 * scale / 300)
    if rng.random() < 0.2:
        o["beta"] = rng.choice([0.5, 2.0, 10.0])
    if rng.random() < 0.2:
        o["kappa"] = rng.choice([1e-6, 0.01, 0.3, 0.9])
    if rng.random() < 0.2:
        o["margin"] = rng.choice([0.5, 1.0, 2.0, 5.0])
    if rng.random() < 0.2:
        o["balance"] = True
    if rng.random() < 0.15:
        o["limit_sigma"] = True
    if rng.random() < 0.15:
        o["weight_bounds"] = rng.choice([None, [0.5, 1.5], [1.0, 3.0], [2.0, 2.5]])
    if rng.random() < 0.1:
        o["tau"] = 0.0
    if name.startswith("ThurstoneMosteller") and rng.random() < 0.4:
        o["epsilon"] = rng.choice([0.0, 0.01, 0.5, 1.0, 2.5, 5.0])
    if name.endswith("Part") and rng.random() < 0.4:
        o["window_size"] = rng.choice([-1, 0, 1, 2, 3, 10])
    return o


def random_args(rng, n_teams, sizes):
    a = {"ranks": None, "scores": None, "weights": None, "tau": None, "limit_sigma": None}
    mode = rng.random()
    if mode < 0.4:
        a["ranks"] = [rng.choice([1, 2, 3, 4, 1.5, 2.7, 0.2, -1.5, -0.5, 0]) if rng.random() < 0.2
                      else rng.randint(1, n_teams) for _ in range(n_teams)]
    elif mode < 0.75:
        a["scores"] = [rng.randint(0, 12) if rng.random() < 0.8 else rng.choice([2.5, -3.25, 0.1]) for _ in range(n_teams)]
    if rng.random() < 0.3:
        a["weights"] = [[rng.choice([0.5, 1, 2, 3, 1.25]) for _ in range(s)] for s in sizes]
    if rng.random() < 0.2:
        a["tau"] = rng.choice([0.0, 0.05, 0.3, 1.0, 4.0, -0.3])
    if rng.random() < 0.2:
        a["limit_sigma"] = rng.choice([True, False])
    return a


def call_args(a):
    return {k: v for k, v in a.items() if v is not None}


def predict_json(model, teams):
    return {
        "predict_win": model.predict_win(teams),
        "predict_rank": [[r, p] for r, p in model.predict_rank(teams)],
        "predict_draw": model.predict_draw(teams),
    }


def rate_case(rng, index, name):
    options = random_options(rng, name)
    model = make_model(name, options)
    n_teams = rng.randint(2, 10)
    sizes = [rng.randint(1, 4) for _ in range(n_teams)]
    lopsided = rng.random() < 0.25
    teams = []
    for s in sizes:
        team = []
        for _ in range(s):
            mu = model.mu + rng.gauss(0, model.sigma * (6 if lopsided else 1))
            sigma = model.sigma * rng.uniform(0.05, 1.2)
            team.append(model.rating(mu=mu, sigma=sigma))
        teams.append(team)
    args = random_args(rng, n_teams, sizes)
    fresh = make_model(name, options)
    predict = predict_json(fresh, teams)
    try:
        out = model.rate(teams, **call_args(args))
    except (OverflowError, ZeroDivisionError, ValueError):
        return None
    return {
        "id": f"{name}-fuzz-{index:05d}", "kind": "rate", "model": name,
        "model_options": options, "model_params": params(make_model(name, options), name),
        "tags": ["fuzz"],
        "teams": [[rating_json(p) for p in t] for t in teams],
        "rate_args": args,
        "expected": {
            "teams": [[rating_json(p) for p in t] for t in out],
            "ordinals": [[p.ordinal() for p in t] for t in out],
            "ordinals_custom": [{"z": 2.0, "alpha": 3.0, "target": 10.0,
                                 "values": [[p.ordinal(z=2.0, alpha=3.0, target=10.0) for p in t] for t in out]}],
        },
        "predict": predict,
        "tolerance": {"reimpl_bit_exact": True, "tail_sensitive": False,
                      "suggested_rtol": 1e-11, "suggested_atol": 1e-11},
    }


def history_case(rng, index, name):
    options = random_options(rng, name)
    model = make_model(name, options)
    players = [model.rating() for _ in range(8)]
    start = [rating_json(p) for p in players]
    games = []
    for _ in range(30):
        n_teams = rng.randint(2, 4)
        pool = rng.sample(range(8), k=min(8, n_teams * rng.randint(1, 2)))
        per = len(pool) // n_teams
        idx = [pool[t * per:(t + 1) * per] for t in range(n_teams)]
        args = random_args(rng, n_teams, [len(t) for t in idx])
        teams = [[players[i] for i in t] for t in idx]
        try:
            out = model.rate(teams, **call_args(args))
        except (OverflowError, ZeroDivisionError, ValueError):
            return None
        for t, team in zip(idx, out):
            for i, p in zip(t, team):
                players[i] = p
        games.append({"teams": idx, "rate_args": args, "result": [[rating_json(p) for p in t] for t in out]})
    ffa = [[0], [1], [2], [3]]
    duo = [[0, 1], [2, 3]]
    return {
        "id": f"{name}-fuzz-history-{index:05d}", "kind": "history", "model": name,
        "model_options": options, "model_params": params(make_model(name, options), name),
        "tags": ["fuzz", "history"], "players": start, "games": games,
        "expected": {
            "players": [rating_json(p) for p in players],
            "ordinals": [p.ordinal() for p in players],
            "predict_ffa4": dict(teams=ffa, **predict_json(model, [[players[i] for i in t] for t in ffa])),
            "predict_2v2": dict(teams=duo, **predict_json(model, [[players[i] for i in t] for t in duo])),
        },
        "tolerance": {"reimpl_bit_exact": True, "tail_sensitive": False,
                      "suggested_rtol": 1e-11, "suggested_atol": 1e-11},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000, help="rate cases per model")
    ap.add_argument("--histories", type=int, default=20, help="history cases per model")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    cases = []
    for name in MODELS:
        made = 0
        while made < a.count:
            c = rate_case(rng, made, name)
            if c:
                cases.append(c)
                made += 1
        made = 0
        while made < a.histories:
            c = history_case(rng, made, name)
            if c:
                cases.append(c)
                made += 1
    json.dump({"schema_version": 1, "generator": {"package": "openskill",
               "package_version": openskill.__version__ if hasattr(openskill, "__version__") else "6.2.0",
               "seed": a.seed, "fuzz": True},
               "case_count": len(cases), "cases": cases}, sys.stdout)


if __name__ == "__main__":
    main()

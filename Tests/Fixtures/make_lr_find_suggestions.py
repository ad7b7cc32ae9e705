"""Writes lr-find-suggestions.json: fastai's learning-rate suggestions (valley, steep, minimum,
slide from fastai.callback.schedule, fastai 2.8) on a few recorded range tests, for
CIFARLabTests/LRFinderTests.

Each case is a whole recorded test (rates and smoothed losses, as fastai's Recorder holds them)
and the iterations it asked for; the suggestions are computed on the series `Learner.lr_find`
hands the suggestion functions: without the first num_it // 10 and the last 5 points, cut at the
first NaN (copied from lr_find, which cannot run without a Learner). Tensors are float64 so the
comparison checks the rules, not float32 rounding. A rule whose series is too short (slide needs
more than 15 points) is null.

    pip install fastai  # plus its imports; the suggestion functions need only torch and numpy
    python Tests/Fixtures/make_lr_find_suggestions.py
"""
import json
import math
import os

import numpy as np
import torch
from fastai.callback.schedule import minimum, slide, steep, valley


def rates(start, end, iterations, count):
    return [start * (end / start) ** (t / (iterations - 1)) for t in range(count)]


def smoothed(raw, beta=0.05):
    out = [raw[0]]
    for loss in raw[1:]:
        out.append(beta * loss + (1 - beta) * out[-1])
    return out


def typical(lrs, rng):
    # Flat at chance, falling between 1e-4 and 1e-1, then blowing up: a CNN's range test.
    raw = []
    for lr in lrs:
        x = math.log10(lr)
        base = 2.3 - 1.2 / (1 + math.exp(-(x + 2.5) * 2.2)) + (max(0.0, x + 0.8) ** 2) * 3
        raw.append(base + rng.normal(0, 0.05))
    return smoothed(raw)


def suggestions(lrs, losses, num_it):
    lrs = torch.tensor(lrs[num_it // 10:-5], dtype=torch.float64)
    losses = torch.tensor(losses[num_it // 10:-5], dtype=torch.float64)
    nan_idxs = torch.nonzero(torch.isnan(losses.view(-1)))
    if len(nan_idxs) > 0:
        drop_idx = min(nan_idxs)
        lrs, losses = lrs[:drop_idx], losses[:drop_idx]
    out = {}
    for func in (valley, steep, minimum, slide):
        try:
            out[func.__name__] = float(func(lrs, losses, num_it)[0])
        except IndexError:
            out[func.__name__] = None
    return out


rng = np.random.default_rng(12)
cases = []
full = rates(1e-7, 10, 100, 100)
cases.append(("typical, 100 of 100 steps", full, typical(full, rng), 100))
cases.append(("stopped at step 74 of 100", full[:74], typical(full[:74], rng), 100))
steps = rates(1e-5, 1, 40, 40)
nan = typical(steps, rng)
nan[30:] = [float("nan")] * 10
cases.append(("NaN from step 31 of 40", steps, nan, 40))
falling = rates(1e-6, 1e-2, 30, 30)
cases.append(("falling throughout, 30 steps", falling, [3 * math.exp(-0.05 * t) for t in range(30)], 30))
cases.append(("too short for slide, 20 steps", falling[:20], [3 - 0.05 * t + 0.01 * (t % 3) for t in range(20)], 30))

fixture = [{"name": name, "lrs": lrs, "losses": [None if math.isnan(v) else v for v in losses], "iterations": it,
            "suggestions": suggestions(lrs, losses, it)} for name, lrs, losses, it in cases]
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lr-find-suggestions.json")
with open(path, "w") as f:
    json.dump(fixture, f, indent=1)
    f.write("\n")
for case in fixture:
    print(case["name"], case["suggestions"])

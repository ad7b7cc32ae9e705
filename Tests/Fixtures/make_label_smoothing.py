"""Writes label-smoothing.json: torch's nn.CrossEntropyLoss(label_smoothing=ε) (mean reduction)
on float32 logits, the loss and d loss / d logits, for NNTests/LossFixtureTests.

Logits span several scales (small, CIFAR-like, large enough that a naive softmax overflows) and
ε takes torch's edge values 0 and 1 besides airbench's 0.2.

    /tmp/torchenv/bin/python Tests/Fixtures/make_label_smoothing.py
"""
import json
import os

import torch

torch.manual_seed(0)
cases = []
for scale, rows, classes in [(0.5, 4, 10), (3.0, 8, 10), (40.0, 3, 7)]:
    logits = (torch.randn(rows, classes) * scale).float()
    labels = torch.randint(0, classes, (rows,))
    for smoothing in [0.0, 0.1, 0.2, 1.0]:
        x = logits.clone().requires_grad_(True)
        loss = torch.nn.CrossEntropyLoss(label_smoothing=smoothing)(x, labels)
        loss.backward()
        cases.append({
            "shape": [rows, classes], "labels": labels.tolist(), "label_smoothing": smoothing,
            "logits": logits.flatten().tolist(), "loss": loss.item(), "gradient": x.grad.flatten().tolist(),
        })

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "label-smoothing.json")
with open(path, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print(f"wrote {len(cases)} cases to {path}")

"""Writes modern-float32-steps.json: the newer optimizers stepping a network-shaped float32
parameter set (a conv weight [4,3,3,3] and bias [4], a linear head [10,36] and bias [10]) with the
gradient of sum(3*p^2 + p) for 12 steps, as the CNN runs them (torch.optim, lion-pytorch,
schedulefree, prodigyopt, pytorch-optimizer). Every step is step(closure); SAM takes its first
gradient before. For schedule-free, the parameters after each step are y (the training weights).
Run with torch 2.15 and the packages installed:
    /tmp/torchenv/bin/python Tests/Fixtures/make_modern_float32_steps.py
LBFGS is left out: near the minimum its float32 stopping tests (|Δloss| < tolerance_change on
float32 sums from BLAS) decide differently from optlab's double-accumulated dot products, and the
paths part at 1e-4 after 9 steps. Muon steps the conv weight (viewed [4, 27]); the head and the biases go to AdamW(lr=3e-4,
betas=(0.9,0.95), weight_decay=0), as optlab's muon(rest=...) default does.
"""
import json, os, torch
import lion_pytorch, schedulefree, prodigyopt
from pytorch_optimizer import SAM, Lookahead

O = torch.optim
SHAPES = [[4, 3, 3, 3], [4], [10, 36], [10]]


class MuonWithRest:
    """torch's Muon on the conv weight (as a [4, 27] view) and AdamW on the rest."""
    def __init__(self, ps, **kwargs):
        self.conv = ps[0]
        self.view = torch.nn.Parameter(ps[0].detach().reshape(4, 27).clone())
        self.muon = O.Muon([self.view], **kwargs)
        self.rest = O.AdamW(ps[1:], lr=3e-4, betas=(0.9, 0.95), weight_decay=0)

    def step(self, closure):
        closure()
        self.view.grad = self.conv.grad.reshape(4, 27).clone()
        self.muon.step()
        self.rest.step()
        with torch.no_grad():
            self.conv.copy_(self.view.reshape(4, 3, 3, 3))


SPECS = {
    "rprop(lr=0.01)": lambda ps: O.Rprop(ps, lr=0.01),
    "asgd(lr=0.02,t0=5,weight_decay=0.01)": lambda ps: O.ASGD(ps, lr=0.02, t0=5, weight_decay=0.01),
    "adafactor(lr=0.05,weight_decay=0.01)": lambda ps: O.Adafactor(ps, lr=0.05, weight_decay=0.01),
    "muon(lr=0.02)": lambda ps: MuonWithRest(ps, lr=0.02),
    "lion(lr=0.001,weight_decay=0.1)": lambda ps: lion_pytorch.Lion(ps, lr=0.001, weight_decay=0.1),
    "adamw_schedulefree(lr=0.01,warmup_steps=3)": lambda ps: schedulefree.AdamWScheduleFree(ps, lr=0.01, warmup_steps=3),
    "sgd_schedulefree(lr=0.05)": lambda ps: schedulefree.SGDScheduleFree(ps, lr=0.05),
    "prodigy": lambda ps: prodigyopt.Prodigy(ps),
    "sam(base=sgd(lr=0.01,momentum=0.9))": lambda ps: SAM(ps, O.SGD, lr=0.01, momentum=0.9),
    "lookahead(k=3,base=adam(lr=0.01))": lambda ps: Lookahead(O.Adam(ps, lr=0.01), k=3),
}

cases = []
for spec, make in SPECS.items():
    gen = torch.Generator().manual_seed(0)
    start = [torch.randn(*s, generator=gen, dtype=torch.float32) * 0.5 for s in SHAPES]
    ps = [torch.nn.Parameter(t.clone()) for t in start]
    opt = make(ps)
    if isinstance(opt, (schedulefree.AdamWScheduleFree, schedulefree.SGDScheduleFree)):
        opt.train()

    def closure():
        for p in ps:
            p.grad = None
        loss = sum((3 * p * p + p).sum() for p in ps)
        loss.backward()
        return loss

    trajectory = []
    for _ in range(12):
        if isinstance(opt, SAM):
            closure()
        opt.step(closure)
        trajectory.append([v for p in ps for v in p.detach().flatten().tolist()])
    cases.append({"spec": spec, "shapes": SHAPES, "start": [v for t in start for v in t.flatten().tolist()],
                  "trajectory": trajectory})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "modern-float32-steps.json")
with open(out + ".tmp", "w") as f:
    json.dump({"about": "newer optimizers on a network-shaped float32 parameter set (shapes), loss sum(3p^2+p); "
                        "trajectory[k] = all parameters, flattened in order, after step k+1",
               "torch": torch.__version__, "cases": cases}, f)
os.replace(out + ".tmp", out)
print("wrote", out, len(cases), "cases")

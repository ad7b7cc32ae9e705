"""Writes onecycle-trajectories.json: torch.optim paths on 2-D surfaces in float64 with
torch.optim.lr_scheduler.OneCycleLR stepped after every optimizer step, in the format of
optim-trajectories.json beside it. Run with torch installed:
    /tmp/torchenv/bin/python Tests/Fixtures/make_onecycle_trajectories.py
A spec without total_steps relies on optlab filling in the path's step count.
"""
import json, math, os, torch

torch.set_default_dtype(torch.float64)  # optimizer scalars (step, NAdam's mu_product) in float64 too

SURFACES = {
    "bowl": ("20*x^2 + 2*y^2", lambda x, y: 20 * x**2 + 2 * y**2),
    "localmin": ("2*x^2 + 10*y^2 + 10*sin(5*y)", lambda x, y: 2 * x**2 + 10 * y**2 + 10 * torch.sin(5 * y)),
    "rosenbrock": ("(1-x)^2 + 100*(y-x^2)^2", lambda x, y: (1 - x)**2 + 100 * (y - x**2)**2),
}
O = torch.optim
# (surface, start, steps, spec, optimizer class, optimizer kwargs, OneCycleLR kwargs)
CASES = [
    ("bowl", [-1.0, 1.5], 100, "sgd(lr=0.01,momentum=0.9,schedule=onecycle(max_lr=0.05))",
     O.SGD, dict(lr=0.01, momentum=0.9), dict(max_lr=0.05, total_steps=100)),
    ("bowl", [-1.0, 1.5], 100, "sgd(lr=0.01,schedule=onecycle(max_lr=0.04,pct_start=0.4))",
     O.SGD, dict(lr=0.01), dict(max_lr=0.04, total_steps=100, pct_start=0.4)),
    ("rosenbrock", [0.8, -1.2], 100,
     "nesterov(lr=0.001,schedule=onecycle(max_lr=0.0004,total_steps=120,anneal_strategy=linear,three_phase=true))",
     O.SGD, dict(lr=0.001, momentum=0.9, nesterov=True),
     dict(max_lr=0.0004, total_steps=120, anneal_strategy="linear", three_phase=True)),
    ("localmin", [0.8, -1.2], 100, "adam(schedule=onecycle(max_lr=0.1,pct_start=0.25))",
     O.Adam, dict(), dict(max_lr=0.1, total_steps=100, pct_start=0.25)),
    ("rosenbrock", [0.8, -1.2], 100,
     "adamw(lr=0.1,weight_decay=0.1,schedule=onecycle(max_lr=0.1,cycle_momentum=false,div_factor=10,final_div_factor=100))",
     O.AdamW, dict(lr=0.1, weight_decay=0.1),
     dict(max_lr=0.1, total_steps=100, cycle_momentum=False, div_factor=10, final_div_factor=100)),
    ("bowl", [-1.0, 1.5], 100, "rmsprop(momentum=0.5,schedule=onecycle(max_lr=0.05,epochs=4,steps_per_epoch=25))",
     O.RMSprop, dict(momentum=0.5), dict(max_lr=0.05, epochs=4, steps_per_epoch=25)),
    ("localmin", [0.8, -1.2], 100, "nadam(schedule=onecycle(max_lr=0.1,base_momentum=0.8,max_momentum=0.9))",
     O.NAdam, dict(), dict(max_lr=0.1, total_steps=100, base_momentum=0.8, max_momentum=0.9)),
    ("localmin", [0.8, -1.2], 100, "radam(schedule=onecycle(max_lr=0.2,anneal_strategy=linear))",
     O.RAdam, dict(), dict(max_lr=0.2, total_steps=100, anneal_strategy="linear")),
    ("bowl", [-1.0, 1.5], 100, "adamax(schedule=onecycle(max_lr=0.2,three_phase=true))",
     O.Adamax, dict(), dict(max_lr=0.2, total_steps=100, three_phase=True)),
]

cases = []
for surface, start, steps, spec, cls, kwargs, cycle in CASES:
    formula, f = SURFACES[surface]
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = cls([p], **kwargs)
    sched = O.lr_scheduler.OneCycleLR(opt, **cycle)
    trajectory, loss = [list(start)], [f(*torch.tensor(start, dtype=torch.float64)).item()]
    for _ in range(steps):
        opt.zero_grad()
        f(p[0], p[1]).backward()
        opt.step()
        sched.step()
        trajectory.append(p.detach().tolist())
        loss.append(f(*p.detach()).item())
    assert all(math.isfinite(v) for v in loss), spec
    cases.append({"surface": surface, "formula": formula, "optimizer": cls.__name__.lower(),
                  "spec": spec, "start": start, "steps": steps, "trajectory": trajectory, "loss": loss})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onecycle-trajectories.json")
with open(out + ".tmp", "w") as fh:
    json.dump({"about": "torch.optim with OneCycleLR on analytic 2-D surfaces in float64; trajectory[i] is the point "
                        "before step i+1 (trajectory[0] is the start); loss[i] is the surface value there; the "
                        "scheduler steps once after every optimizer step",
               "torch": torch.__version__, "cases": cases}, fh)
os.replace(out + ".tmp", out)

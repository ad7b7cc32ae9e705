"""Writes optim-trajectories.json: torch.optim's classic algorithms on analytic 2-D surfaces in
float64, one path per case (with StepLR where a schedule is given, stepped after every optimizer
step). Run with torch installed:
    /tmp/torchenv/bin/python Tests/Fixtures/make_optim_trajectories.py
"""
import json, math, os, torch

torch.set_default_dtype(torch.float64)  # optimizer scalars (step, NAdam's mu_product) in float64 too

SURFACES = {
    "bowl": ("20*x^2 + 2*y^2", lambda x, y: 20 * x**2 + 2 * y**2),
    "localmin": ("2*x^2 + 10*y^2 + 10*sin(5*y)", lambda x, y: 2 * x**2 + 10 * y**2 + 10 * torch.sin(5 * y)),
    "rosenbrock": ("(1-x)^2 + 100*(y-x^2)^2", lambda x, y: (1 - x)**2 + 100 * (y - x**2)**2),
}
O = torch.optim
STARTS = [[-1.0, 1.5], [0.8, -1.2], [-0.5, -1.0]]
# (surface, spec, optimizer class, kwargs, StepLR kwargs or None); starts cycle through STARTS.
CASES = [
    ("bowl", "sgd(lr=0.04)", O.SGD, dict(lr=0.04), None),
    ("bowl", "sgd(lr=0.04,momentum=0.9)", O.SGD, dict(lr=0.04, momentum=0.9), None),
    ("bowl", "sgd(lr=0.02,momentum=0.9,nesterov=true)", O.SGD, dict(lr=0.02, momentum=0.9, nesterov=True), None),
    ("bowl", "sgd(lr=0.01,momentum=0.5,dampening=0.5,weight_decay=0.1)", O.SGD,
     dict(lr=0.01, momentum=0.5, dampening=0.5, weight_decay=0.1), None),
    ("bowl", "adagrad(lr=0.5)", O.Adagrad, dict(lr=0.5), None),
    ("bowl", "adagrad(lr=0.5,lr_decay=0.01,initial_accumulator_value=0.1)", O.Adagrad,
     dict(lr=0.5, lr_decay=0.01, initial_accumulator_value=0.1), None),
    ("bowl", "rmsprop(lr=0.05)", O.RMSprop, dict(lr=0.05), None),
    ("bowl", "rmsprop(lr=0.01,momentum=0.9,centered=true)", O.RMSprop, dict(lr=0.01, momentum=0.9, centered=True), None),
    ("bowl", "adadelta(lr=1.0)", O.Adadelta, dict(lr=1.0), None),
    ("bowl", "adadelta(lr=20.0,rho=0.95)", O.Adadelta, dict(lr=20.0, rho=0.95), None),
    ("bowl", "adam(lr=0.1)", O.Adam, dict(lr=0.1), None),
    ("bowl", "adam(lr=0.1,betas=(0.8,0.99),amsgrad=true,weight_decay=0.01)", O.Adam,
     dict(lr=0.1, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.01), None),
    ("bowl", "adamw(lr=0.1)", O.AdamW, dict(lr=0.1), None),
    ("bowl", "adamw(lr=0.1,weight_decay=0.5)", O.AdamW, dict(lr=0.1, weight_decay=0.5), None),
    ("bowl", "sgd(lr=0.04,schedule=step(step_size=20,gamma=0.5))", O.SGD, dict(lr=0.04), dict(step_size=20, gamma=0.5)),
    ("bowl", "sgd(lr=0.04,momentum=0.9,schedule=step(step_size=10,gamma=0.5))", O.SGD,
     dict(lr=0.04, momentum=0.9), dict(step_size=10, gamma=0.5)),
    ("localmin", "sgd(lr=0.01,momentum=0.9)", O.SGD, dict(lr=0.01, momentum=0.9), None),
    ("localmin", "rmsprop(lr=0.1)", O.RMSprop, dict(lr=0.1), None),
    ("localmin", "adam(lr=0.2)", O.Adam, dict(lr=0.2), None),
    ("rosenbrock", "adam(lr=0.05)", O.Adam, dict(lr=0.05), None),
    ("bowl", "nadam(lr=0.1)", O.NAdam, dict(lr=0.1), None),
    ("bowl", "radam(lr=0.1)", O.RAdam, dict(lr=0.1), None),
    ("bowl", "adamax(lr=0.1)", O.Adamax, dict(lr=0.1), None),
]
STEPS = 100

cases = []
for i, (surface, spec, cls, kwargs, step_lr) in enumerate(CASES):
    formula, f = SURFACES[surface]
    start = STARTS[i % len(STARTS)]
    p = torch.tensor(start, requires_grad=True)
    opt = cls([p], **kwargs)
    sched = O.lr_scheduler.StepLR(opt, **step_lr) if step_lr else None
    trajectory, loss = [list(start)], [f(*torch.tensor(start)).item()]
    for _ in range(STEPS):
        opt.zero_grad()
        f(p[0], p[1]).backward()
        opt.step()
        if sched:
            sched.step()
        trajectory.append(p.detach().tolist())
        loss.append(f(*p.detach()).item())
    assert all(math.isfinite(v) for v in loss), spec
    cases.append({"surface": surface, "formula": formula, "optimizer": cls.__name__.lower(), "kwargs": kwargs,
                  "schedule": {"name": "step", "kwargs": step_lr} if step_lr else None, "spec": spec,
                  "start": start, "steps": STEPS, "trajectory": trajectory, "loss": loss})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim-trajectories.json")
with open(out + ".tmp", "w") as fh:
    json.dump({"about": "Trajectories of torch.optim optimizers on analytic 2-D surfaces, computed in float64. "
                        "trajectory[i] is the point before step i+1 (trajectory[0] is the start); loss[i] is the "
                        "surface value there. A scheduler, where present, is stepped once after every optimizer step.",
               "torch": torch.__version__, "cases": cases}, fh)
os.replace(out + ".tmp", out)

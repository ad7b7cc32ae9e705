"""Writes schedule-trajectories.json: torch.optim paths on 2-D surfaces in float64 with each of
torch.optim.lr_scheduler's schedules optlab adds (LinearLR, ConstantLR, PolynomialLR, CyclicLR in
every mode with momentum and beta1 cycled, CosineAnnealingWarmRestarts, ReduceLROnPlateau with
reductions, cooldown, min_lr and both modes, SequentialLR and ChainedScheduler, these two also
holding OneCycleLR, CyclicLR and each other), in the format of
onecycle-trajectories.json plus `lr`, the rate of every step. The scheduler steps once after every
optimizer step; ReduceLROnPlateau with the loss at the new point. Run with torch installed:
    /tmp/torchenv/bin/python Tests/Fixtures/make_schedule_trajectories.py
"""
import json, math, os, warnings
import torch

torch.set_default_dtype(torch.float64)  # optimizer scalars (step, NAdam's mu_product) in float64 too
warnings.filterwarnings("ignore")  # torch warns that SequentialLR's constructor steps its first scheduler

SURFACES = {
    "bowl": ("20*x^2 + 2*y^2", lambda x, y: 20 * x**2 + 2 * y**2),
    "localmin": ("2*x^2 + 10*y^2 + 10*sin(5*y)", lambda x, y: 2 * x**2 + 10 * y**2 + 10 * torch.sin(5 * y)),
    "rosenbrock": ("(1-x)^2 + 100*(y-x^2)^2", lambda x, y: (1 - x)**2 + 100 * (y - x**2)**2),
}
O, S = torch.optim, torch.optim.lr_scheduler
START = {"bowl": [-1.0, 1.5], "localmin": [0.8, -1.2], "rosenbrock": [0.8, -1.2]}

# (surface, optlab spec, optimizer class, optimizer kwargs, scheduler from the optimizer)
CASES = [
    ("bowl", "sgd(lr=0.01,momentum=0.9,schedule=linear(start_factor=0.25,total_iters=20))",
     O.SGD, dict(lr=0.01, momentum=0.9), lambda o: S.LinearLR(o, start_factor=0.25, total_iters=20)),
    ("localmin", "adam(lr=0.1,schedule=linear)", O.Adam, dict(lr=0.1), lambda o: S.LinearLR(o)),
    ("rosenbrock", "adamw(lr=0.05,schedule=linear(start_factor=1,end_factor=0.1,total_iters=60))",
     O.AdamW, dict(lr=0.05), lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=60)),
    ("rosenbrock", "rmsprop(lr=0.002,schedule=constant(factor=0.5,total_iters=30))",
     O.RMSprop, dict(lr=0.002), lambda o: S.ConstantLR(o, factor=0.5, total_iters=30)),
    ("bowl", "adagrad(lr=0.5,schedule=constant)", O.Adagrad, dict(lr=0.5), lambda o: S.ConstantLR(o)),
    ("localmin", "sgd(lr=0.01,schedule=polynomial(total_iters=60,power=2))",
     O.SGD, dict(lr=0.01), lambda o: S.PolynomialLR(o, total_iters=60, power=2.0)),
    ("rosenbrock", "nadam(lr=0.05,schedule=polynomial)", O.NAdam, dict(lr=0.05), lambda o: S.PolynomialLR(o)),
    ("bowl", "sgd(lr=0.01,momentum=0.9,schedule=cyclic(base_lr=0.001,max_lr=0.04,step_size_up=10))",
     O.SGD, dict(lr=0.01, momentum=0.9), lambda o: S.CyclicLR(o, base_lr=0.001, max_lr=0.04, step_size_up=10)),
    ("bowl", "sgd(lr=0.01,schedule=cyclic(base_lr=0.001,max_lr=0.03,step_size_up=10,base_momentum=0.5))",
     O.SGD, dict(lr=0.01), lambda o: S.CyclicLR(o, base_lr=0.001, max_lr=0.03, step_size_up=10, base_momentum=0.5)),
    ("localmin", "adam(schedule=cyclic(base_lr=0.01,max_lr=0.2,step_size_up=8,step_size_down=12,mode=triangular2))",
     O.Adam, dict(), lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.2, step_size_up=8, step_size_down=12, mode="triangular2")),
    ("rosenbrock", "rmsprop(momentum=0.5,schedule=cyclic(base_lr=0.0002,max_lr=0.002,step_size_up=5,mode=exp_range,gamma=0.98))",
     O.RMSprop, dict(momentum=0.5),
     lambda o: S.CyclicLR(o, base_lr=0.0002, max_lr=0.002, step_size_up=5, mode="exp_range", gamma=0.98)),
    ("bowl", "adagrad(schedule=cyclic(base_lr=0.05,max_lr=0.5,step_size_up=7,step_size_down=0,cycle_momentum=false))",
     O.Adagrad, dict(), lambda o: S.CyclicLR(o, base_lr=0.05, max_lr=0.5, step_size_up=7, step_size_down=0, cycle_momentum=False)),
    ("localmin", "nadam(schedule=cyclic(base_lr=0.02,max_lr=0.1,step_size_up=15,base_momentum=0.85,max_momentum=0.95))",
     O.NAdam, dict(), lambda o: S.CyclicLR(o, base_lr=0.02, max_lr=0.1, step_size_up=15, base_momentum=0.85, max_momentum=0.95)),
    ("bowl", "sgd(lr=0.01,momentum=0.9,schedule=cosine_warm_restarts(T_0=10,T_mult=2,eta_min=0.001))",
     O.SGD, dict(lr=0.01, momentum=0.9), lambda o: S.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2, eta_min=0.001)),
    ("rosenbrock", "adam(lr=0.05,schedule=cosine_warm_restarts(T_0=15))",
     O.Adam, dict(lr=0.05), lambda o: S.CosineAnnealingWarmRestarts(o, T_0=15)),
    ("localmin", "adam(lr=0.3,schedule=plateau(patience=3,factor=0.5,cooldown=2))",
     O.Adam, dict(lr=0.3), lambda o: S.ReduceLROnPlateau(o, patience=3, factor=0.5, cooldown=2)),
    ("bowl", "sgd(lr=0.045,schedule=plateau(mode=max,threshold_mode=abs,threshold=0.5,patience=5,factor=0.7,min_lr=0.01))",
     O.SGD, dict(lr=0.045),
     lambda o: S.ReduceLROnPlateau(o, mode="max", threshold_mode="abs", threshold=0.5, patience=5, factor=0.7, min_lr=0.01)),
    ("rosenbrock", "adagrad(lr=0.5,schedule=plateau(threshold=0.01,patience=2,cooldown=3,factor=0.3,eps=1e-4))",
     O.Adagrad, dict(lr=0.5),
     lambda o: S.ReduceLROnPlateau(o, threshold=0.01, patience=2, cooldown=3, factor=0.3, eps=1e-4)),
    ("bowl", "sgd(lr=0.01,momentum=0.9,schedule=sequential(schedulers=(linear(start_factor=0.1,total_iters=10),cosine(T_max=90)),milestones=(10)))",
     O.SGD, dict(lr=0.01, momentum=0.9),
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=10), S.CosineAnnealingLR(o, T_max=90)], milestones=[10])),
    ("localmin", "adam(lr=0.2,schedule=sequential(schedulers=(constant(factor=0.2,total_iters=3),exponential(gamma=0.97),step(step_size=7,gamma=0.5)),milestones=(5,30)))",
     O.Adam, dict(lr=0.2),
     lambda o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.2, total_iters=3), S.ExponentialLR(o, gamma=0.97),
                                  S.StepLR(o, step_size=7, gamma=0.5)], milestones=[5, 30])),
    ("rosenbrock", "adamw(lr=0.05,schedule=sequential(schedulers=(linear(start_factor=0.5,total_iters=15),cosine_warm_restarts(T_0=20,eta_min=0.005),polynomial(total_iters=20)),milestones=(15,60)))",
     O.AdamW, dict(lr=0.05),
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.5, total_iters=15), S.CosineAnnealingWarmRestarts(o, T_0=20, eta_min=0.005),
                                  S.PolynomialLR(o, total_iters=20)], milestones=[15, 60])),
    ("bowl", "rmsprop(lr=0.02,schedule=sequential(schedulers=(multistep(milestones=(3,6),gamma=0.5),linear(start_factor=0.2,total_iters=10),constant(factor=0.6,total_iters=4)),milestones=(20,20)))",
     O.RMSprop, dict(lr=0.02),
     lambda o: S.SequentialLR(o, [S.MultiStepLR(o, milestones=[3, 6], gamma=0.5), S.LinearLR(o, start_factor=0.2, total_iters=10),
                                  S.ConstantLR(o, factor=0.6, total_iters=4)], milestones=[20, 20])),
    ("bowl", "sgd(lr=0.02,schedule=chained(schedulers=(constant(factor=0.5,total_iters=10),exponential(gamma=0.97))))",
     O.SGD, dict(lr=0.02),
     lambda o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=10), S.ExponentialLR(o, gamma=0.97)])),
    ("rosenbrock", "adamw(lr=0.05,weight_decay=0.1,schedule=chained(schedulers=(linear(start_factor=0.3,total_iters=8),cosine(T_max=50,eta_min=0.001))))",
     O.AdamW, dict(lr=0.05, weight_decay=0.1),
     lambda o: S.ChainedScheduler([S.LinearLR(o, start_factor=0.3, total_iters=8), S.CosineAnnealingLR(o, T_max=50, eta_min=0.001)])),
    ("localmin", "radam(lr=0.1,schedule=chained(schedulers=(step(step_size=20,gamma=0.7),multistep(milestones=(30,30,70)),cosine_warm_restarts(T_0=12,T_mult=2),polynomial(total_iters=90,power=0.5))))",
     O.RAdam, dict(lr=0.1),
     lambda o: S.ChainedScheduler([S.StepLR(o, step_size=20, gamma=0.7), S.MultiStepLR(o, milestones=[30, 30, 70]),
                                   S.CosineAnnealingWarmRestarts(o, T_0=12, T_mult=2), S.PolynomialLR(o, total_iters=90, power=0.5)])),
    # Composites holding every kind of schedule, with torch's consequences: onecycle's and cyclic's
    # constructors set initial_lr (which SequentialLR restarts the rates from) and the momentum or beta1.
    ("bowl", "sgd(lr=0.01,momentum=0.9,schedule=sequential(schedulers=(linear(start_factor=0.1,total_iters=10),onecycle(max_lr=0.03,total_steps=90)),milestones=(10)))",
     O.SGD, dict(lr=0.01, momentum=0.9),
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=10), S.OneCycleLR(o, max_lr=0.03, total_steps=90)], milestones=[10])),
    ("localmin", "adam(lr=0.1,schedule=sequential(schedulers=(cyclic(base_lr=0.01,max_lr=0.1,step_size_up=10),cosine(T_max=50)),milestones=(40)))",
     O.Adam, dict(lr=0.1),
     lambda o: S.SequentialLR(o, [S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=10), S.CosineAnnealingLR(o, T_max=50)], milestones=[40])),
    ("bowl", "sgd(lr=0.01,momentum=0.9,schedule=sequential(schedulers=(onecycle(max_lr=0.04,total_steps=50,anneal_strategy=linear),exponential(gamma=0.98),cyclic(base_lr=0.001,max_lr=0.01,step_size_up=5)),milestones=(50,70)))",
     O.SGD, dict(lr=0.01, momentum=0.9),
     lambda o: S.SequentialLR(o, [S.OneCycleLR(o, max_lr=0.04, total_steps=50, anneal_strategy="linear"), S.ExponentialLR(o, gamma=0.98),
                                  S.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=5)], milestones=[50, 70])),
    ("bowl", "sgd(lr=0.01,momentum=0.9,schedule=chained(schedulers=(onecycle(max_lr=0.05,total_steps=100),exponential(gamma=0.99))))",
     O.SGD, dict(lr=0.01, momentum=0.9),
     lambda o: S.ChainedScheduler([S.OneCycleLR(o, max_lr=0.05, total_steps=100), S.ExponentialLR(o, gamma=0.99)])),
    ("localmin", "nadam(schedule=chained(schedulers=(constant(factor=0.5,total_iters=20),cyclic(base_lr=0.01,max_lr=0.05,step_size_up=10))))",
     O.NAdam, dict(),
     lambda o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=20), S.CyclicLR(o, base_lr=0.01, max_lr=0.05, step_size_up=10)])),
    ("bowl", "sgd(lr=0.02,schedule=sequential(schedulers=(chained(schedulers=(constant(factor=0.5,total_iters=10),exponential(gamma=0.98))),cosine(T_max=60)),milestones=(40)))",
     O.SGD, dict(lr=0.02),
     lambda o: S.SequentialLR(o, [S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=10), S.ExponentialLR(o, gamma=0.98)]),
                                  S.CosineAnnealingLR(o, T_max=60)], milestones=[40])),
    ("rosenbrock", "adamw(lr=0.05,schedule=chained(schedulers=(sequential(schedulers=(linear(start_factor=0.2,total_iters=10),cosine(T_max=80)),milestones=(10)),exponential(gamma=0.995))))",
     O.AdamW, dict(lr=0.05),
     lambda o: S.ChainedScheduler([S.SequentialLR(o, [S.LinearLR(o, start_factor=0.2, total_iters=10), S.CosineAnnealingLR(o, T_max=80)], milestones=[10]),
                                   S.ExponentialLR(o, gamma=0.995)])),
    ("localmin", "rmsprop(lr=0.01,schedule=sequential(schedulers=(sequential(schedulers=(constant(factor=0.3,total_iters=5),linear(start_factor=0.5,total_iters=10)),milestones=(8)),cosine(T_max=50)),milestones=(30)))",
     O.RMSprop, dict(lr=0.01),
     lambda o: S.SequentialLR(o, [S.SequentialLR(o, [S.ConstantLR(o, factor=0.3, total_iters=5), S.LinearLR(o, start_factor=0.5, total_iters=10)], milestones=[8]),
                                  S.CosineAnnealingLR(o, T_max=50)], milestones=[30])),
]

STEPS = 100
cases = []
for surface, spec, cls, kwargs, make in CASES:
    formula, f = SURFACES[surface]
    start = START[surface]
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = cls([p], **kwargs)
    sched = make(opt)
    plateau = isinstance(sched, S.ReduceLROnPlateau)
    trajectory, loss, lr = [list(start)], [f(*torch.tensor(start)).item()], []
    for _ in range(STEPS):
        lr.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        f(p[0], p[1]).backward()
        opt.step()
        value = f(*p.detach()).item()
        sched.step(value) if plateau else sched.step()
        trajectory.append(p.detach().tolist())
        loss.append(value)
    assert all(math.isfinite(v) for v in loss), spec
    if plateau:  # the case must exercise what it is for: several reductions
        assert len(set(lr)) >= 3, (spec, sorted(set(lr)))
    cases.append({"surface": surface, "formula": formula, "optimizer": cls.__name__.lower(),
                  "spec": spec, "start": start, "steps": STEPS, "trajectory": trajectory, "loss": loss, "lr": lr})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schedule-trajectories.json")
with open(out + ".tmp", "w") as fh:
    json.dump({"about": "torch.optim with torch.optim.lr_scheduler's schedules on analytic 2-D surfaces in float64; "
                        "trajectory[i] is the point before step i+1 (trajectory[0] is the start); loss[i] is the surface "
                        "value there; lr[i] is the rate step i+1 used; the scheduler steps once after every optimizer "
                        "step, ReduceLROnPlateau with the loss at the new point",
               "torch": torch.__version__, "cases": cases}, fh)
os.replace(out + ".tmp", out)
print(f"{len(cases)} cases -> {out}")

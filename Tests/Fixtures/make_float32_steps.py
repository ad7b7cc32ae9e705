"""Writes float32-steps.json: torch.optim stepping a 3-element float32 parameter (torch's scalar
CPU kernels) with gradient 6·θ + 1 for 30 steps, for every algorithm. Run with torch installed:
    python3 Tests/Fixtures/make_float32_steps.py
"""
import json, os, torch

SPECS = {
    "sgd(lr=0.01,momentum=0.9,weight_decay=0.1,nesterov=true)": (torch.optim.SGD, dict(lr=0.01, momentum=0.9, weight_decay=0.1, nesterov=True)),
    "sgd(lr=0.01,momentum=0.5,dampening=0.3,schedule=step(step_size=10,gamma=0.5))": (torch.optim.SGD, dict(lr=0.01, momentum=0.5, dampening=0.3)),
    "adagrad(lr=0.1,lr_decay=0.01,initial_accumulator_value=0.1)": (torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    "rmsprop(lr=0.01,momentum=0.5,centered=true,weight_decay=0.01)": (torch.optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01)),
    "adadelta(weight_decay=0.1)": (torch.optim.Adadelta, dict(weight_decay=0.1)),
    "adam(lr=0.05,amsgrad=true,weight_decay=0.01)": (torch.optim.Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.01)),
    "adamw(lr=0.05,schedule=cosine(T_max=30))": (torch.optim.AdamW, dict(lr=0.05)),
    "nadam(lr=0.05,weight_decay=0.1)": (torch.optim.NAdam, dict(lr=0.05, weight_decay=0.1)),
    "nadam(lr=0.05,weight_decay=0.1,decoupled_weight_decay=true)": (torch.optim.NAdam, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    "radam(lr=0.05,maximize=true)": (torch.optim.RAdam, dict(lr=0.05, maximize=True)),
    "adamax(lr=0.05,weight_decay=0.01)": (torch.optim.Adamax, dict(lr=0.05, weight_decay=0.01)),
}
SCHEDULES = {
    "step(step_size=10,gamma=0.5)": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.5),
    "cosine(T_max=30)": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=30),
}

cases = []
for spec, (cls, kwargs) in SPECS.items():
    start = torch.randn(3, generator=torch.Generator().manual_seed(0), dtype=torch.float32)
    p = torch.nn.Parameter(start.clone())
    opt = cls([p], **kwargs)
    sched = next((make(opt) for name, make in SCHEDULES.items() if name in spec), None)
    trajectory = []
    for _ in range(30):
        p.grad = (6 * p + 1).detach()
        opt.step()
        if sched:
            sched.step()
        trajectory.append(p.detach().tolist())
    cases.append({"spec": spec, "start": start.tolist(), "trajectory": trajectory})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "float32-steps.json")
with open(out, "w") as f:
    json.dump({"about": "torch.optim on a 3-element float32 parameter, gradient 6*p + 1, trajectory[k] = parameter after step k+1",
               "torch": torch.__version__, "cases": cases}, f)

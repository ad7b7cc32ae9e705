"""Writes modern-trajectories.json: the optimizers beyond the classic torch.optim set, stepped on
2-D surfaces in float64 by their reference implementations, in the format of
onecycle-trajectories.json. Run with torch 2.15 and the reference packages installed:
    /tmp/torchenv/bin/python Tests/Fixtures/make_modern_trajectories.py
torch.optim: Rprop, ASGD, Adafactor, Muon, LBFGS; lion-pytorch: Lion; schedulefree:
AdamWScheduleFree, SGDScheduleFree; prodigyopt: Prodigy; pytorch-optimizer: SAM, Lookahead.
The point is a 1x2 matrix (Muon takes matrices only), as optlab steps it. Every step is
torch's `optimizer.step(closure)` with a closure that zeroes the gradient, evaluates the surface
and back-propagates. For schedule-free optimizers a path's points are x, where `optimizer.eval()`
puts the weights: lerp(y, z, 1 - 1/beta1), computed out of place so that y is left untouched.
"""
import json, math, os, torch
import lion_pytorch, schedulefree, prodigyopt
from pytorch_optimizer import SAM, Lookahead

torch.set_default_dtype(torch.float64)

SURFACES = {
    "bowl": ("20*x^2 + 2*y^2", lambda x, y: 20 * x**2 + 2 * y**2),
    "localmin": ("2*x^2 + 10*y^2 + 10*sin(5*y)", lambda x, y: 2 * x**2 + 10 * y**2 + 10 * torch.sin(5 * y)),
    "rosenbrock": ("(1-x)^2 + 100*(y-x^2)^2", lambda x, y: (1 - x)**2 + 100 * (y - x**2)**2),
}
O = torch.optim
B, L, R = ([-1.0, 1.5], "bowl"), ([0.8, -1.2], "localmin"), ([-1.5, 2.0], "rosenbrock")

# (surface and start, steps, spec, constructor of the optimizer over [p])
CASES = [
    (B, 100, "rprop", lambda ps: O.Rprop(ps)),
    (R, 100, "rprop(lr=0.001,etas=(0.4,1.3),step_sizes=(1e-5,0.05))",
     lambda ps: O.Rprop(ps, lr=0.001, etas=(0.4, 1.3), step_sizes=(1e-5, 0.05))),
    (B, 100, "asgd", lambda ps: O.ASGD(ps)),
    (L, 100, "asgd(lr=0.003,lambd=0.01,alpha=0.5,t0=20,weight_decay=0.1)",
     lambda ps: O.ASGD(ps, lr=0.003, lambd=0.01, alpha=0.5, t0=20, weight_decay=0.1)),
    (B, 100, "adafactor(lr=0.1)", lambda ps: O.Adafactor(ps, lr=0.1)),
    (R, 100, "adafactor(lr=0.05,beta2_decay=-0.5,eps=(1e-30,1e-3),d=1.5,weight_decay=0.1,maximize=false)",
     lambda ps: O.Adafactor(ps, lr=0.05, beta2_decay=-0.5, eps=(1e-30, 1e-3), d=1.5, weight_decay=0.1)),
    (B, 100, "muon(lr=0.02)", lambda ps: O.Muon(ps, lr=0.02)),
    (R, 100, "muon(lr=0.01,weight_decay=0,momentum=0.9,nesterov=false,adjust_lr_fn=match_rms_adamw)",
     lambda ps: O.Muon(ps, lr=0.01, weight_decay=0, momentum=0.9, nesterov=False, adjust_lr_fn="match_rms_adamw")),
    (L, 60, "muon(lr=0.05,ns_steps=3,ns_coefficients=(3,-3.2,1.2),eps=1e-5,adjust_lr_fn=spectral_unclamped)",
     lambda ps: O.Muon(ps, lr=0.05, ns_steps=3, ns_coefficients=(3, -3.2, 1.2), eps=1e-5, adjust_lr_fn="spectral_unclamped")),
    (B, 20, "lbfgs(lr=0.1,max_iter=3)", lambda ps: O.LBFGS(ps, lr=0.1, max_iter=3)),
    (B, 20, "lbfgs(lr=0.05,max_iter=4,history_size=2)", lambda ps: O.LBFGS(ps, lr=0.05, max_iter=4, history_size=2)),
    (L, 20, "lbfgs(lr=0.5,max_iter=5,history_size=3,line_search_fn=strong_wolfe)",
     lambda ps: O.LBFGS(ps, lr=0.5, max_iter=5, history_size=3, line_search_fn="strong_wolfe")),
    (L, 10, "lbfgs(max_iter=8,max_eval=10,tolerance_grad=1e-5,tolerance_change=1e-7,line_search_fn=strong_wolfe)",
     lambda ps: O.LBFGS(ps, max_iter=8, max_eval=10, tolerance_grad=1e-5, tolerance_change=1e-7, line_search_fn="strong_wolfe")),
    (B, 100, "lion(lr=0.01)", lambda ps: lion_pytorch.Lion(ps, lr=0.01)),
    (R, 100, "lion(lr=0.003,betas=(0.95,0.98),weight_decay=0.1)",
     lambda ps: lion_pytorch.Lion(ps, lr=0.003, betas=(0.95, 0.98), weight_decay=0.1)),
    (B, 100, "adamw_schedulefree(lr=0.1)", lambda ps: schedulefree.AdamWScheduleFree(ps, lr=0.1)),
    (R, 100, "adamw_schedulefree(lr=0.05,betas=(0.8,0.99),warmup_steps=10,weight_decay=0.01,r=1,weight_lr_power=1.5)",
     lambda ps: schedulefree.AdamWScheduleFree(ps, lr=0.05, betas=(0.8, 0.99), warmup_steps=10, weight_decay=0.01, r=1,
                                              weight_lr_power=1.5)),
    (B, 100, "sgd_schedulefree(lr=0.01)", lambda ps: schedulefree.SGDScheduleFree(ps, lr=0.01)),
    (R, 100, "sgd_schedulefree(lr=0.0005,momentum=0.8,warmup_steps=5,weight_decay=0.01,weight_lr_power=1)",
     lambda ps: schedulefree.SGDScheduleFree(ps, lr=0.0005, momentum=0.8, warmup_steps=5, weight_decay=0.01, weight_lr_power=1)),
    (B, 100, "prodigy", lambda ps: prodigyopt.Prodigy(ps)),
    (L, 100, "prodigy(lr=0.5,betas=(0.8,0.99),beta3=0.9,weight_decay=0.01,decouple=false,use_bias_correction=true,safeguard_warmup=true,d0=1e-4,d_coef=0.5,growth_rate=1.1)",
     lambda ps: prodigyopt.Prodigy(ps, lr=0.5, betas=(0.8, 0.99), beta3=0.9, weight_decay=0.01, decouple=False,
                                   use_bias_correction=True, safeguard_warmup=True, d0=1e-4, d_coef=0.5, growth_rate=1.1)),
    (R, 100, "prodigy(lr=0.1,betas=(0,0.999),weight_decay=0.1)",
     lambda ps: prodigyopt.Prodigy(ps, lr=0.1, betas=(0, 0.999), weight_decay=0.1)),
    (B, 100, "sam(base=sgd(lr=0.01))", lambda ps: SAM(ps, O.SGD, lr=0.01)),
    (B, 100, "sam(rho=0.1,adaptive=true,base=momentum(lr=0.005))",
     lambda ps: SAM(ps, O.SGD, rho=0.1, adaptive=True, lr=0.005, momentum=0.9)),
    (R, 100, "sam(base=adam(lr=0.05))", lambda ps: SAM(ps, O.Adam, lr=0.05)),
    (B, 100, "lookahead(base=adam(lr=0.1))", lambda ps: Lookahead(O.Adam(ps, lr=0.1))),
    (R, 100, "lookahead(k=3,alpha=0.8,base=momentum(lr=0.001))",
     lambda ps: Lookahead(O.SGD(ps, lr=0.001, momentum=0.9), k=3, alpha=0.8)),
    (B, 60, "lookahead(k=4,base=sam(rho=0.02,base=sgd(lr=0.02)))",
     lambda ps: Lookahead(SAM(ps, O.SGD, rho=0.02, lr=0.02), k=4)),
]


def evaluation_point(opt, p):
    """Where optimizer.eval() would put the weights (schedule-free), else the weights."""
    if isinstance(opt, (schedulefree.AdamWScheduleFree, schedulefree.SGDScheduleFree)):
        group = opt.param_groups[0]
        beta1 = group["betas"][0] if "betas" in group else group["momentum"]
        z = opt.state[p].get("z")
        return p.detach().clone() if z is None else torch.lerp(p.detach(), z, 1 - 1 / beta1)
    return p.detach().clone()


cases = []
for (start, surface), steps, spec, make in CASES:
    formula, f = SURFACES[surface]
    p = torch.tensor([start], dtype=torch.float64, requires_grad=True)
    opt = make([p])
    if hasattr(opt, "train") and isinstance(opt, (schedulefree.AdamWScheduleFree, schedulefree.SGDScheduleFree)):
        opt.train()
    evaluations = 0

    def closure():
        global evaluations
        evaluations += 1
        opt.zero_grad()
        loss = f(p[0, 0], p[0, 1])
        loss.backward()
        return loss

    trajectory, losses, counts = [list(start)], [f(*torch.tensor(start)).item()], []
    for _ in range(steps):
        evaluations = 0
        if isinstance(opt, SAM) or (isinstance(opt, Lookahead) and isinstance(opt.optimizer, SAM)):
            closure()  # pytorch-optimizer's SAM takes the first gradient before step(closure)
        opt.step(closure)
        counts.append(evaluations)
        x = evaluation_point(opt, p)[0]
        trajectory.append(x.tolist())
        losses.append(f(x[0], x[1]).item())
    assert all(math.isfinite(v) for v in losses), spec
    cases.append({"surface": surface, "formula": formula, "optimizer": spec.split("(")[0], "spec": spec,
                  "start": start, "steps": steps, "trajectory": trajectory, "loss": losses, "evaluations": counts})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "modern-trajectories.json")
with open(out + ".tmp", "w") as fh:
    json.dump({"about": "reference implementations on analytic 2-D surfaces in float64, the point a 1x2 matrix; "
                        "trajectory[i] is the point after step i (trajectory[0] is the start; for schedule-free "
                        "the evaluation point x); loss[i] is the surface value there; evaluations[i] counts the "
                        "closure calls of step i+1 (SAM's first gradient included)",
               "torch": torch.__version__, "cases": cases}, fh)
os.replace(out + ".tmp", out)
print("wrote", out, len(cases), "cases")

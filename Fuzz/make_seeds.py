"""Writes the fuzzers' seed corpus (Fuzz/corpus/<target>/): small valid inputs of every kind each
parser reads, so libFuzzer starts from the formats' structure rather than from random bytes.
Run from the repository root: python3 Fuzz/make_seeds.py (needs only the standard library)."""
import gzip, io, json, os, struct, tarfile

root = "Fuzz/corpus"


def seed(target, name, data):
    os.makedirs(f"{root}/{target}", exist_ok=True)
    with open(f"{root}/{target}/{name}", "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


for i, text in enumerate([
    "adam(lr=0.1,betas=(0.8,0.99),schedule=step(step_size=10),label=fast adam)",
    "sgd(lr=0.04),momentum,nesterov(lr=0.01,weight_decay=1e-4)",
    "adamw(lr=1e-3,amsgrad=true,schedule=onecycle(max_lr=0.1,pct_start=0.3))",
    "rmsprop(alpha=0.9,centered=true,schedule=cosine(T_max=50,eta_min=0.001))",
    "adagrad(lr_decay=0.01),adadelta(rho=0.95),nadam(momentum_decay=0.004),radam(decoupled_weight_decay=true),adamax",
    "sgd(lr=0.1,schedule=multistep(milestones=(10,20),gamma=0.5)),sgd(schedule=exponential(gamma=0.99))",
    # Closure-stepped and wrapping algorithms: the input "lbfgs   " once trapped the target, which stepped without a closure.
    "lbfgs   ",
    "lbfgs(line_search_fn=strong_wolfe),sam(rho=0.1,base=adam(lr=0.01)),lookahead(k=3,base=sgd(lr=0.1)),muon,lion,prodigy",
    "adamw_schedulefree(warmup_steps=2),sgd_schedulefree,rprop,asgd,adafactor",
    "sgd(lr=0.1,schedule=sequential(schedulers=(linear(start_factor=0.1,total_iters=2),cosine(T_max=8)),milestones=(2))),"
    "adam(schedule=plateau(patience=1)),sgd(momentum=0.9,schedule=cyclic(base_lr=0.01,max_lr=0.1,step_size_up=2))",
]):
    seed("spec", f"spec{i}", text)

for i, text in enumerate(["x^2 + 3*sin(x*y)", "(1-x)^2 + 100*(y-x^2)^2", "-x**2/abs(y) + exp(tanh(x))*log(sqrt(y^2+1))",
                          "sign(x) - cos(pi*y)^e / tan(0.5e-3*x)", "rosenbrock", "x^y^2"]):
    seed("formula", f"formula{i}", text)

for name in sorted(os.listdir("experiments")):
    with open(f"experiments/{name}") as f:
        seed("experiment", name, f.read())


def safetensors(tensors, metadata=None):
    """tensors: name -> (dtype, shape, raw bytes), laid out as safetensors.torch writes them."""
    header, offset, payload = {}, 0, b""
    for name, (dtype, shape, raw) in sorted(tensors.items()):
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        payload += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + payload


seed("safetensors", "mixed", safetensors({
    "conv.weight": ("F32", [2, 1, 2, 2], struct.pack("<8f", *range(8))),
    "steps": ("I64", [1], struct.pack("<q", 3)),
    "bias": ("F64", [2], struct.pack("<2d", 0.5, -1)),
    "count": ("I32", [], struct.pack("<i", 7)),
}, {"format": "pt"}))
seed("safetensors", "empty", safetensors({}))

# The class-name file and two records: a label byte, then 3072 pixel bytes.
seed("cifar", "meta", "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n")
seed("cifar", "records", bytes([3]) + bytes(range(256)) * 12 + bytes([9]) + bytes(3072))


def tar(members, format):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=format) as archive:
        for path, contents in members:
            info = tarfile.TarInfo(path)
            if contents is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(contents)
                archive.addfile(info, io.BytesIO(contents))
    return buffer.getvalue()


members = [("cifar-10-batches-bin", None), ("cifar-10-batches-bin/batches.meta.txt", b"airplane\n"),
           ("cifar-10-batches-bin/" + "long" * 30 + ".bin", b"\x01\x02\x03")]
seed("archive", "gnu.tar.gz", gzip.compress(tar(members, tarfile.GNU_FORMAT), mtime=0))
seed("archive", "pax.tar", tar(members, tarfile.PAX_FORMAT))
seed("archive", "ustar.tar.gz", gzip.compress(tar(members[:2], tarfile.USTAR_FORMAT), mtime=0))



def damaged_size(field):
    """A ustar member "x" whose size field is `field`, with a valid checksum: the inputs of
    ArchiveTests.testOutOfRangeMemberSizesAreRefused (they made the reader trap)."""
    header = bytearray(512)
    header[0:1], header[124:124 + len(field)], header[156:157], header[257:263] = b"x", field, b"0", b"ustar\0"
    checksum = sum(header[:148]) + 8 * 32 + sum(header[156:])
    header[148:156] = b"%06o\0 " % checksum
    return bytes(header) + bytes(1024)


seed("archive", "negative-size.tar", damaged_size(b"-1\0"))
seed("archive", "base256-overflow.tar", damaged_size(b"\xff" * 12))

# A checkpoint's metadata as optlab writes it (the tensors left out, so resuming fails at the
# weights, after the plan has built a trainer).
plan = {"augment": False, "batchSize": 4, "epochs": 2, "labelSmoothing": 0, "model": "tutorial", "normalization": "tutorial",
        "optimizer": "sgd(lr=0.001,momentum=0.9)", "seed": 0, "trainSubset": 8}
metrics = [{"epoch": 1, "trainLoss": 2.3, "trainAccuracy": 0.1, "testLoss": 2.3, "testAccuracy": 0.1, "seconds": 0.5}]
position = {"epoch": 1, "batch": 1, "lossSum": 4.6, "correct": 1, "seen": 4}
seed("checkpoint", "tutorial", safetensors({"fc3.bias": ("F32", [10], bytes(40))}, {
    "format": "optlab-checkpoint-1", "model": "tutorial", "optimizer": plan["optimizer"], "seed": "0", "epoch": "1",
    "loss": "2.3", "plan": json.dumps(plan), "metrics": json.dumps(metrics), "position": json.dumps(position),
    "normalization": json.dumps({"mean": [0.5] * 3, "std": [0.5] * 3}), "seconds": "0.5"}))

"""Writes tutorial-net.safetensors, vgg-small.safetensors and airbench-narrow.safetensors (airbench94's
network at widths 8, 16, 16, to keep the file small): for each network, PyTorch's default
initial weights, one random batch (input ~ N(0,1), 8 labels), and what PyTorch computes in train()
mode for it — logits, CrossEntropyLoss(mean), every parameter's gradient — and the eval() logits
after that one training forward (which moved the batch-norm running statistics). Run with torch:
    /tmp/torchenv/bin/python Tests/Fixtures/make_network_fixtures.py
Module names are PyTorch's state_dict() names, which optlab's models share.
"""
import os, torch, torch.nn as nn
from collections import OrderedDict
from safetensors.torch import save_file

def tutorial_net():
    class Net(nn.Module):  # the CIFAR-10 tutorial's Net
        def __init__(self):
            super().__init__()
            self.conv1, self.pool = nn.Conv2d(3, 6, 5), nn.MaxPool2d(2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)
        def forward(self, x):
            x = self.pool(torch.relu(self.conv1(x)))
            x = torch.flatten(self.pool(torch.relu(self.conv2(x))), 1)
            return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))
    return Net()

def vgg_small():
    layers, channels = [], 3
    for width in (32, 64, 128):
        for _ in range(2):
            layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            channels = width
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 4 * 4, 10))

class Mul(nn.Module):  # airbench's logit scale
    def __init__(self, scale):
        super().__init__()
        self.scale = scale
    def forward(self, x):
        return x * self.scale

def airbench(widths):
    """airbench94's network as airbench builds it (GELU, batch norms with eps 1e-12 and a frozen
    weight, max-pool 3, a bias-free head, logits × 1/9), named as optlab names it; the first conv
    stays learnable here (training makes it the frozen whitening layer)."""
    def norm(c):
        bn = nn.BatchNorm2d(c, eps=1e-12)
        bn.weight.requires_grad = False
        return bn
    def group(i, o):
        return nn.Sequential(OrderedDict(conv1=nn.Conv2d(i, o, 3, padding=1, bias=False), pool=nn.MaxPool2d(2),
                                         norm1=norm(o), activ1=nn.GELU(), conv2=nn.Conv2d(o, o, 3, padding=1, bias=False),
                                         norm2=norm(o), activ2=nn.GELU()))
    return nn.Sequential(OrderedDict(whiten=nn.Conv2d(3, 24, 2), activ=nn.GELU(), block1=group(24, widths[0]), block2=group(*widths[:2]),
                                     block3=group(*widths[1:]), pool=nn.MaxPool2d(3), flatten=nn.Flatten(),
                                     head=nn.Linear(widths[2], 10, bias=False), scale=Mul(1 / 9)))

def write(name, make, seed):
    torch.manual_seed(seed)
    model = make()
    tensors = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    x, labels = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    model.train()
    logits = model(x)
    loss = nn.CrossEntropyLoss()(logits, labels)
    loss.backward()
    tensors.update({"input": x, "labels": labels, "expected.logits": logits.detach(), "expected.loss": loss.detach().reshape(1)})
    tensors.update({f"expected.grad.{k}": p.grad.detach().clone() for k, p in model.named_parameters() if p.requires_grad})
    model.eval()
    with torch.no_grad():
        tensors["expected.eval_logits_after_one_train_forward"] = model(x)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    save_file(tensors, out + ".tmp", metadata={"seed": str(seed), "torch": torch.__version__, "loss": "CrossEntropyLoss(mean)",
                                             "mode": "train() for logits, loss and grads"})
    os.replace(out + ".tmp", out)

write("tutorial-net.safetensors", tutorial_net, 0)
write("vgg-small.safetensors", vgg_small, 0)
write("airbench-narrow.safetensors", lambda: airbench((8, 16, 16)), 0)

"""Where bf16 moves labnet's gradients: optlab's two bf16 modes emulated exactly in float32 PyTorch.

A bf16 product rounds its operands to bfloat16 (their products are exact in float32) and
accumulates in float32. Per convolution and linear layer of a trained labnet checkpoint, on one
batch of 256 training images, the relative error ||g - g_fp32|| / ||g_fp32|| of each weight
gradient when bf16 rounds
  bf16:           the forward's input and weight and the gradient arriving at the output (optlab
                  --precision bf16, torch.autocast alike);
  forward only:   the forward's input and weight;
  bf16-backward:  the backward products' operands only (optlab --precision bf16-backward).

Usage: python scripts/bf16_gradient_error.py CHECKPOINT [CIFAR_DIR]
(needs torch, torchvision and safetensors; CHECKPOINT a labnet checkpoint of `optlab train`)."""
import json, os, sys
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from collections import OrderedDict
from torch.nn.grad import conv2d_input, conv2d_weight
from torchvision.models.resnet import BasicBlock
from safetensors import safe_open
from safetensors.torch import load_file

def labnet(w=16):  # optlab's labnet (Sources/CIFARLab/CIFARModels.swift) in PyTorch
    def stage(cin, cout, pool, residual):
        layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False)] + ([nn.MaxPool2d(2)] if pool else [])
        layers += [nn.BatchNorm2d(cout), nn.ReLU(inplace=True)] + ([BasicBlock(cout, cout)] if residual else [])
        return nn.Sequential(*layers)
    return nn.Sequential(OrderedDict(prep=stage(3, w, False, False), layer1=stage(w, 2 * w, True, True),
        layer2=stage(2 * w, 4 * w, True, False), layer3=stage(4 * w, 8 * w, True, True),
        pool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=nn.Linear(8 * w, 10)))

def bf16(t): return t.bfloat16().float()

ROUNDS = {  # mode: (the forward's operands, the backward's x and w, the output's gradient)
    'fp32': (False, False, False), 'bf16': (True, True, True),
    'forward only': (True, True, False), 'bf16-backward': (False, True, True)}

class Product(torch.autograd.Function):
    """y = x ⋆ w (no bias) with the three products' operands rounded as `mode` says."""
    @staticmethod
    def forward(ctx, x, w, layer, mode):
        ctx.save_for_backward(x, w); ctx.layer, ctx.mode = layer, mode
        if ROUNDS[mode][0]: x, w = bf16(x), bf16(w)
        return F.linear(x, w) if isinstance(layer, nn.Linear) else F.conv2d(x, w, None, layer.stride, layer.padding)
    @staticmethod
    def backward(ctx, g):
        (x, w), layer, (_, operands, gradient) = ctx.saved_tensors, ctx.layer, ROUNDS[ctx.mode]
        if operands: x, w = bf16(x), bf16(w)
        if gradient: g = bf16(g)
        if isinstance(layer, nn.Linear): return g @ w, g.t() @ x, None, None
        return (conv2d_input(x.shape, w, g, layer.stride, layer.padding),
                conv2d_weight(x, w.shape, g, layer.stride, layer.padding), None, None)

def main():
    checkpoint = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else os.environ.get('OPTLAB_DATA', '../shared/data/cifar-10-batches-bin')
    with safe_open(checkpoint, 'pt') as f: norm = json.loads(f.metadata()['normalization'])
    raw = np.fromfile(os.path.join(data, 'data_batch_1.bin'), np.uint8).reshape(-1, 3073)[:256]
    labels = torch.tensor(raw[:, 0].astype(np.int64))
    images = torch.tensor(raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255)
    images = (images - torch.tensor(norm['mean']).view(1, 3, 1, 1)) / torch.tensor(norm['std']).view(1, 3, 1, 1)
    net = labnet(); net.load_state_dict(load_file(checkpoint), strict=False); net.train()
    state = {k: v.clone() for k, v in net.state_dict().items()}
    mode = ['fp32']
    for layer in net.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):  # labnet's only bias is the classifier's
            layer.forward = lambda x, layer=layer: Product.apply(x, layer.weight, layer, mode[0]) + \
                (0 if layer.bias is None else layer.bias)
    def gradients(m):
        mode[0] = m; net.load_state_dict(state); net.zero_grad()
        nn.CrossEntropyLoss(label_smoothing=0.2)(net(images), labels).backward()
        return {n: p.grad.clone() for n, p in net.named_parameters() if p.dim() > 1}
    exact = gradients('fp32')
    modes = ['bf16', 'forward only', 'bf16-backward']
    moved = {m: gradients(m) for m in modes}
    print('%-24s' % 'weight gradient' + ''.join('%15s' % m for m in modes))
    for name, g in exact.items():
        print('%-24s' % name + ''.join('%14.2f%%' % (100 * (moved[m][name] - g).norm() / g.norm()) for m in modes))

if __name__ == '__main__':
    main()

"""Load an exported built-in model (model.onnx from train.py) back into an
Encoder, so a later stage can fine-tune the shipped weights when the
checkpoint is gone.

The exporter folds each convolution's batch norm into the convolution
(weight and bias); the head's batch norm is kept. Unfolding: each
convolution gets the folded weight, and its batch norm running statistics
measured on real inputs (mean m, variance v of the folded convolution's
output without bias) with gamma = sqrt(v + eps) and beta = m + bias, so the
eval-mode network is exactly the exported one and the train-mode network
(which normalises with batch statistics) starts close to it.
"""
import numpy as np
import torch


def _initializers(path):
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    return [(t.name, numpy_helper.to_array(t)) for t in m.graph.initializer]


def _pairs(model):
    """(conv, batch norm) pairs of the encoder in module order."""
    out = [(model.stem[0], model.stem[1])]
    for blk in model.body:
        out += [(blk.c1, blk.b1), (blk.c2, blk.b2)]
        if blk.short is not None:
            out.append((blk.short[0], blk.short[1]))
    return out


@torch.no_grad()
def load(model, path, embed, calib, device):
    """Fill model (an Encoder of the exported shape) from the ONNX file at
    path. embed(model, uint8 NHWC arrays, device) embeds calib, real inputs
    used for the statistics. Returns the largest absolute difference between
    the unfolded model in eval mode and the folded one on calib."""
    inits = dict(_initializers(path))
    convs = [(k, v) for k, v in _initializers(path) if v.ndim == 4]
    pairs = _pairs(model)
    if len(convs) != len(pairs):
        raise ValueError(f"{path}: {len(convs)} convolutions, the encoder has {len(pairs)}")
    state = model.state_dict()
    for name in state:
        k = "encoder." + name
        if k in inits:
            state[name] = torch.from_numpy(inits[k].copy())
    model.load_state_dict(state)
    biases = {}
    for (wname, w), (conv, bn) in zip(convs, pairs):
        if tuple(conv.weight.shape) != w.shape:
            raise ValueError(f"{path}: {wname} has shape {w.shape}, expected {tuple(conv.weight.shape)}")
        # the bias initializer follows its weight in the exporter's order
        names = [k for k, _ in _initializers(path)]
        b = inits[names[names.index(wname) + 1]]
        conv.weight.copy_(torch.from_numpy(w))
        biases[bn] = torch.from_numpy(b.copy())
        # folded: bn is the identity plus bias for now
        bn.running_mean.zero_()
        bn.running_var.fill_(1 - bn.eps)
        bn.weight.fill_(1)
        bn.bias.copy_(biases[bn])
    model.to(device).eval()
    stats = {}

    def hook(bn):
        def f(_, inp, __):
            x = inp[0].double()
            s = stats.setdefault(bn, [0, 0.0, 0.0])
            s[0] += x.shape[0] * x.shape[2] * x.shape[3]
            s[1] += x.sum(dim=(0, 2, 3))
            s[2] += (x * x).sum(dim=(0, 2, 3))
        return f

    hs = [bn.register_forward_hook(hook(bn)) for _, bn in pairs]
    before = embed(model, calib, device)
    for h in hs:
        h.remove()
    for _, bn in pairs:
        n, s1, s2 = stats[bn]
        # inp is the conv output; with bn = identity + bias, it has no bias term
        m = s1 / n
        v = (s2 / n - m * m).clamp(min=1e-8)
        bn.running_mean.copy_(m.float())
        bn.running_var.copy_(v.float())
        bn.weight.copy_(torch.sqrt(v + bn.eps).float())
        bn.bias.copy_((m + biases[bn].to(m.device).double()).float())
    after = embed(model, calib, device)
    return float((after - before).abs().max())

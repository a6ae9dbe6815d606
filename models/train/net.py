"""Small ResNet-style encoder for the built-in model.

The exported graph maps NCHW float32 pixels (already rescaled and
normalised per the manifest) to an L2-normalised embedding.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """Basic residual block (two 3x3 convs), optional stride-2 downsampling."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)), inplace=True)
        y = self.b2(self.c2(y))
        s = x if self.short is None else self.short(x)
        return F.relu(y + s, inplace=True)


class Encoder(nn.Module):
    """Stem (stride 2) + 4 stages of basic blocks + global average pool + MLP head.

    widths/depths are per stage; stages 2..4 halve the resolution.
    """

    def __init__(self, widths=(32, 64, 128, 256), depths=(1, 1, 2, 1), dim=128, hidden=512):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 2, 1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        layers, cin = [], widths[0]
        for i, (w, d) in enumerate(zip(widths, depths)):
            for j in range(d):
                layers.append(Block(cin, w, 2 if (j == 0 and i > 0) else 1))
                cin = w
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(cin, hidden), nn.BatchNorm1d(hidden),
                                  nn.ReLU(inplace=True), nn.Linear(hidden, dim))
        self.feat_dim = cin

    def features(self, x):
        return self.body(self.stem(x)).mean(dim=(2, 3))

    def forward(self, x):
        """Returns the L2-normalised embedding."""
        z = self.head(self.features(x))
        return F.normalize(z, dim=1)


class Dihedral(nn.Module):
    """Orbit pooling: the mean of the encoder's embeddings over rotations by
    0/90/180/270 degrees (n=4) or all eight rotations and mirror images (n=8),
    L2-normalised again. This makes the embedding exactly invariant to those
    transforms at n times the inference cost. Input must be square."""

    def __init__(self, encoder, n=4):
        super().__init__()
        assert n in (1, 2, 4, 8)
        self.encoder, self.n = encoder, n

    def forward(self, x):
        size = x.shape[-1]
        rev = torch.arange(size - 1, -1, -1, device=x.device)
        vs = [x]
        if self.n == 2:
            vs.append(x.index_select(3, rev))
        if self.n >= 4:
            r = x
            for _ in range(3):  # rotate by 90 degrees: transpose then mirror
                r = r.transpose(2, 3).index_select(3, rev)
                vs.append(r)
        if self.n == 8:
            vs += [v.index_select(3, rev) for v in vs]
        b = x.shape[0]
        z = self.encoder(torch.cat(vs))
        z = z.reshape(len(vs), b, -1).mean(dim=0)
        return F.normalize(z, dim=1)

#!/usr/bin/python3
"""Peer benchmark: one training step of the toolkit's VGGFace network in PyTorch on the CPU.

Same network as `buildModel({backbone: "vggFace", head: "branch"})` in models/build.ts at its
default settings: the VGG16 trunk (13 conv3x3 'same' + ReLU, 5 max-pools 2x2), flatten,
common_fc Dense 1024 + ReLU, one Dense 128 + ReLU branch per task (emotion 7, pose 5), the
cross-stitch unit (models/cross_stitch.ts: the branches concatenated, times one identity-initialised
256x256 matrix, split again), and one logits Dense per task (17,142,348 parameters at 64x64x3). It reports images per second for forward + backward + Adam update, like
shared/peer/torch_mini_xception.py, so `deno task bench:train --models=project-vggface64` can
print the ratio in the same row.

Usage: python3 torch_vgg.py [--size 64] [--batch 32] [--steps 5] [--threads 1]
Needs Debian's python3-torch (apt-get install python3-torch).
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BLOCKS = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]


class VggFace(nn.Module):
    def __init__(self, size, classes=(7, 5), branch=128):
        super().__init__()
        layers, cin = [], 3
        for widths in BLOCKS:
            for w in widths:
                layers += [nn.Conv2d(cin, w, 3, padding=1), nn.ReLU()]
                cin = w
            layers.append(nn.MaxPool2d(2, 2))
        self.trunk = nn.Sequential(*layers)
        side = size // 32
        self.common = nn.Linear(512 * side * side, 1024)
        self.branches = nn.ModuleList(nn.Linear(1024, branch) for _ in classes)
        self.stitch = nn.Parameter(torch.eye(branch * len(classes)))
        self.heads = nn.ModuleList(nn.Linear(branch, c) for c in classes)

    def forward(self, x):
        h = F.relu(self.common(torch.flatten(self.trunk(x), 1)))
        z = torch.cat([F.relu(f(h)) for f in self.branches], dim=1)  # [N, tasks * branch]
        mixed = torch.split(z @ self.stitch, [f.out_features for f in self.branches], dim=1)
        return [head(m) for head, m in zip(self.heads, mixed)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    if a.size % 32 != 0:
        raise SystemExit("error: --size must be a multiple of 32 (five 2x2 pools)")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = VggFace(a.size)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 3, a.size, a.size)
    ye = torch.randint(0, 7, (a.batch,))
    yp = torch.randint(0, 5, (a.batch,))

    def step():
        opt.zero_grad()
        le, lp = model(x)
        loss = F.cross_entropy(le, ye) + F.cross_entropy(lp, yp)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(2):
        step()
    t = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = time.perf_counter() - t
    params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__} threads={a.threads} size={a.size} batch={a.batch} "
          f"params={params} img_per_s={a.batch * a.steps / dt:.1f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Times one GAN training step (generator + discriminator, batch 1) in mangacolor and in PyTorch on the same
CPU threads, same architecture, and prints the ratio. It reports; it never asserts a speed.

Architecture (both sides): the trainer's seed U-Net (levels and widths as `mangacolor train --levels L
--width-multiplier W` builds them: 3x3 conv + InstanceNorm + LeakyReLU(0.2) blocks, max-pool down, 3x3 stride-2
transposed conv + InstanceNorm + LeakyReLU up, skip concatenation, 3x3 conv + Tanh out) and the PatchGAN
discriminator (4x4 convs 64, 128, 256 stride 2 then 512 stride 1, InstanceNorm after all but the first,
1-channel logit conv), Adam on both, D step on a real and a detached fake pair, G step with BCE + 100 * L1.

Our side is `mangacolor train` itself on synthetic pages; its per-step `seconds` in metrics.jsonl (the step
only, not page loading) are the times. Needs torch.

usage: tools/train-step-vs-pytorch.py [--size 256] [--steps 4] [--width-multiplier 1] [--levels 7]
                                      [--threads 2] [--mangacolor .build/release/mangacolor]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED_LEVELS = [[16, 32, 32], [64, 64], [128, 128], [256, 256], [512, 512], [512], [512]]


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.InstanceNorm2d(cout, affine=True), nn.LeakyReLU(0.2))


class UNet(nn.Module):
    def __init__(self, levels):
        super().__init__()
        self.levels = levels
        self.enc = nn.ModuleList()
        cin = 1
        for widths in levels:
            blocks = []
            for w in widths:
                blocks.append(block(cin, w))
                cin = w
            self.enc.append(nn.Sequential(*blocks))
        self.up, self.dec = nn.ModuleList(), nn.ModuleList()
        for i in range(len(levels) - 2, -1, -1):
            skip = levels[i][-1]
            self.up.append(nn.Sequential(nn.ConvTranspose2d(cin, skip, 3, stride=2, padding=1, output_padding=1),
                                         nn.InstanceNorm2d(skip, affine=True), nn.LeakyReLU(0.2)))
            blocks, c = [], 2 * skip
            for w in reversed(levels[i]):
                blocks.append(block(c, w))
                c = w
            self.dec.append(nn.Sequential(*blocks))
            cin = c
        self.out = nn.Conv2d(cin, 3, 3, padding=1)

    def forward(self, x):
        skips, h = [], x
        for i, enc in enumerate(self.enc):
            if i > 0:
                h = F.max_pool2d(h, 2)
            h = enc(h)
            skips.append(h)
        for k, i in enumerate(range(len(self.levels) - 2, -1, -1)):
            h = self.dec[k](torch.cat([self.up[k](h), skips[i]], 1))
        return torch.tanh(self.out(h))


def patch_discriminator():
    layers, cin = [], 4
    for i, w in enumerate([64, 128, 256]):
        layers += [nn.Conv2d(cin, w, 4, stride=2, padding=1)] + ([nn.InstanceNorm2d(w, affine=True)] if i else []) + [nn.LeakyReLU(0.2)]
        cin = w
    layers += [nn.Conv2d(cin, 512, 4, padding=1), nn.InstanceNorm2d(512, affine=True), nn.LeakyReLU(0.2), nn.Conv2d(512, 1, 4, padding=1)]
    return nn.Sequential(*layers)


def pytorch_steps(size, steps, levels, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    g, d = UNet(levels), patch_discriminator()
    og = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.5, 0.999))
    x, y = torch.randn(1, 1, size, size) * 0.5, torch.randn(1, 3, size, size) * 0.5
    bce = nn.BCEWithLogitsLoss()
    times = []
    for step in range(steps + 1):
        t0 = time.perf_counter()
        fake = g(x)
        od.zero_grad()
        real_logits, fake_logits = d(torch.cat([x, y], 1)), d(torch.cat([x, fake.detach()], 1))
        (0.5 * (bce(real_logits, torch.full_like(real_logits, 0.85)) + bce(fake_logits, torch.full_like(fake_logits, 0.15)))).backward()
        od.step()
        og.zero_grad()
        logits = d(torch.cat([x, fake], 1))
        (bce(logits, torch.ones_like(logits)) + 100 * F.l1_loss(fake, y)).backward()
        og.step()
        if step > 0:  # the first step warms up
            times.append(time.perf_counter() - t0)
    return times, sum(p.numel() for p in g.parameters())


def our_steps(binary, size, steps, width, levels, threads):
    env = dict(os.environ, MANGACOLOR_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([binary, "synth", "--out", f"{tmp}/pages", "--count", "2", "--width", str(2 * size),
                        "--height", str(2 * size)], check=True, capture_output=True)
        subprocess.run([binary, "train", "--data", f"{tmp}/pages", "--out", f"{tmp}/run", "--size", str(size),
                        "--steps", str(steps + 1), "--discriminator", "patch", "--width-multiplier", str(width),
                        "--levels", str(levels), "--checkpoint-every", "100000"], check=True, capture_output=True, env=env)
        rows = [json.loads(line) for line in open(f"{tmp}/run/metrics.jsonl")]
    return [r["seconds"] for r in rows[1:]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--width-multiplier", type=float, default=1.0)
    ap.add_argument("--levels", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mangacolor", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "mangacolor"))
    a = ap.parse_args()
    levels = [[max(1, round(w * a.width_multiplier)) for w in ws] for ws in SEED_LEVELS[: a.levels]]
    ours = our_steps(a.mangacolor, a.size, a.steps, a.width_multiplier, a.levels, a.threads)
    theirs, params = pytorch_steps(a.size, a.steps, levels, a.threads)
    mo, mt = statistics.median(ours), statistics.median(theirs)
    print(f"G+D step, batch 1, {a.size}x{a.size}, U-Net {params:,} parameters, PatchGAN, {a.threads} threads")
    print(f"mangacolor: median {mo * 1000:8.1f} ms  (min {min(ours) * 1000:.1f}, {len(ours)} steps after 1 warm-up)")
    print(f"pytorch   : median {mt * 1000:8.1f} ms  (min {min(theirs) * 1000:.1f}, torch {torch.__version__})")
    print(f"ratio ours/pytorch (median): {mo / mt:.2f}")
    print(f"load average while timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()

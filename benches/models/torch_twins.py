"""PyTorch twins of genre's trainable model families, timed for `genre bench models --torch PYTHON`.

Each class below is the SAME network as its burn counterpart in crates/model/src/arch.rs (Cnn,
Resnet, LstmNet, Crnn, Mlp, MusicnnHead) and crates/model/src/musicnn.rs (Backend, MidLayer: what
`--finetune` trains): same layers, sizes, order and parameter count (burn's `num_params()`).
Whoever changes an architecture there changes its twin here.

    python torch_twins.py --model {cnn,resnet,lstm,crnn,features,musicnn,musicnn-finetune}
                          --case {train_b32,infer_b1,infer_b64} --threads N [--min-time S]

prints ONE JSON line on stdout:
    {"model", "case", "threads", "ms" (median), "ms_min", "n" (timed reps), "rss_mb" (peak RSS),
     "params", "torch"}
and everything else on stderr; a bad argument exits non-zero.

train_b32: model.train(), AdamW(lr 1e-3, weight decay 1e-4); a step is zero_grad, forward, soft
cross-entropy -(log_softmax * onehot).sum() / B, backward, step, read loss and logits back (as
crates/model/src/train.rs `step`), on the same batch every step. infer_b*: model.eval() under
torch.inference_mode(), forward and read the logits back. 3 untimed warm-up reps, then at least 5
timed reps and until --min-time seconds have passed (at most 1000).

Defaults that differ from burn's without changing the cost: weight initialisation; AdamW epsilon
(torch 1e-8, burn 1e-5). GRU: torch's gate formula applies the reset gate after the hidden
product, which is burn's default (`reset_after = true`) too.
"""

import argparse
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

N_CLASSES = 10
BN_EPS = 1e-3  # burn's nets use 1e-3 (arch.rs `bn`, musicnn.rs BN_EPSILON); momentum 0.1 as torch


def conv3(cin, cout):
    """burn Conv2d 3x3, 'same' padding, bias."""
    return nn.Conv2d(cin, cout, 3, padding=1)


def bn2(n):
    return nn.BatchNorm2d(n, eps=BN_EPS, momentum=0.1)


def bn1(n):
    return nn.BatchNorm1d(n, eps=BN_EPS, momentum=0.1)


class Cnn(nn.Module):
    """3 x (conv -> ReLU -> max-pool 2 -> BN), dense 64, ReLU, dropout 0.5, dense."""

    def __init__(self, rows, cols):
        super().__init__()
        self.c1, self.b1 = conv3(1, 32), bn2(32)
        self.c2, self.b2 = conv3(32, 32), bn2(32)
        self.c3, self.b3 = conv3(32, 32), bn2(32)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(32 * max(rows // 8, 1) * max(cols // 8, 1), 64)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(64, N_CLASSES)

    def forward(self, x):
        x = x.unsqueeze(1)
        for c, b in ((self.c1, self.b1), (self.c2, self.b2), (self.c3, self.b3)):
            x = b(self.pool(F.relu(c(x))))
        return self.fc2(self.drop(F.relu(self.fc1(x.flatten(1)))))


class ResBlock(nn.Module):
    """conv -> BN -> ReLU -> conv -> BN, + skip (1x1 conv with bias, no BN, when channels change), ReLU."""

    def __init__(self, cin, cout):
        super().__init__()
        self.c1, self.b1 = conv3(cin, cout), bn2(cout)
        self.c2, self.b2 = conv3(cout, cout), bn2(cout)
        self.proj = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        skip = self.proj(x) if self.proj is not None else x
        y = F.relu(self.b1(self.c1(x)))
        return F.relu(self.b2(self.c2(y)) + skip)


class Resnet(nn.Module):
    """stem conv 16 -> BN -> ReLU -> pool; blocks 16, 32, 64 (pool after all but the last); GAP; dense."""

    def __init__(self, rows, cols):
        super().__init__()
        self.stem, self.stem_bn = conv3(1, 16), bn2(16)
        self.blocks = nn.ModuleList([ResBlock(16, 16), ResBlock(16, 32), ResBlock(32, 64)])
        self.pool = nn.MaxPool2d(2, 2)
        self.fc = nn.Linear(64, N_CLASSES)

    def forward(self, x):
        x = self.pool(F.relu(self.stem_bn(self.stem(x.unsqueeze(1)))))
        for i, b in enumerate(self.blocks):
            x = b(x)
            if i + 1 < len(self.blocks):
                x = self.pool(x)
        return self.fc(x.mean(dim=(2, 3)))


class LstmNet(nn.Module):
    """Two one-layer LSTM(64) over frames (burn's Lstm is one layer), last hidden state of the
    second, dense 64, ReLU, dense."""

    def __init__(self, rows, cols):
        super().__init__()
        self.l1 = nn.LSTM(rows, 64, batch_first=True)
        self.l2 = nn.LSTM(64, 64, batch_first=True)
        self.fc1 = nn.Linear(64, 64)
        self.fc2 = nn.Linear(64, N_CLASSES)

    def forward(self, x):
        h1, _ = self.l1(x.transpose(1, 2))  # [B, frames, coefficients]
        _, (h, _) = self.l2(h1)
        return self.fc2(F.relu(self.fc1(h[-1])))


class Crnn(nn.Module):
    """conv 32 / 64 / 64 (conv -> BN -> ReLU -> pool 2, 2, then 4x1 over frequency), mean over
    frequency, GRU(64) over time, last step, dense."""

    def __init__(self, rows, cols):
        super().__init__()
        self.c1, self.b1 = conv3(1, 32), bn2(32)
        self.c2, self.b2 = conv3(32, 64), bn2(64)
        self.c3, self.b3 = conv3(64, 64), bn2(64)
        self.pool = nn.MaxPool2d(2, 2)
        self.pool_freq = nn.MaxPool2d((4, 1), (4, 1))
        self.gru = nn.GRU(64, 64, batch_first=True)
        self.fc = nn.Linear(64, N_CLASSES)

    def forward(self, x):
        x = self.pool(F.relu(self.b1(self.c1(x.unsqueeze(1)))))
        x = self.pool(F.relu(self.b2(self.c2(x))))
        x = self.pool_freq(F.relu(self.b3(self.c3(x))))
        out, _ = self.gru(x.mean(2).transpose(1, 2))  # [B, time, channels] -> [B, time, hidden]
        return self.fc(out[:, -1])


class Mlp(nn.Module):
    """dense 256 -> BN -> ReLU -> dropout 0.3 -> dense 128 -> BN -> ReLU -> dropout -> dense."""

    def __init__(self, rows, cols):
        super().__init__()
        self.fc1, self.b1 = nn.Linear(rows * cols, 256), bn1(256)
        self.fc2, self.b2 = nn.Linear(256, 128), bn1(128)
        self.drop = nn.Dropout(0.3)
        self.fc3 = nn.Linear(128, N_CLASSES)

    def forward(self, x):
        x = self.drop(F.relu(self.b1(self.fc1(x.flatten(1)))))
        x = self.drop(F.relu(self.b2(self.fc2(x))))
        return self.fc3(x)


class MidLayer(nn.Module):
    """musicnn mid-end layer: Conv1d(k 7, pad 3) -> ReLU -> BN."""

    def __init__(self, cin):
        super().__init__()
        self.conv, self.bn = nn.Conv1d(cin, 64, 7, padding=3), bn1(64)

    def forward(self, x):
        return self.bn(F.relu(self.conv(x)))


class Backend(nn.Module):
    """musicnn mid-end and back-end: [B, 561, T] -> 200-d embedding. Its batch norms are frozen
    (musicnn.rs `bn`: `.freeze()`): stored statistics in training too, gamma and beta not trained
    (but counted, as burn's num_params counts them)."""

    def __init__(self):
        super().__init__()
        self.midend = nn.ModuleList([MidLayer(561), MidLayer(64), MidLayer(64)])
        self.pool_bn = bn1(1506)
        self.dense = nn.Linear(1506, 200)
        self.dense_bn = bn1(200)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.eval()
        return self

    def forward(self, f):
        c1 = self.midend[0](f)
        c2 = self.midend[1](c1) + c1
        c3 = self.midend[2](c2) + c2
        m = torch.cat([f, c1, c2, c3], 1)  # [B, 753, T]
        pooled = torch.stack([m.amax(2), m.mean(2)], 2).flatten(1)  # max, mean interleaved: 1506
        return self.dense_bn(F.relu(self.dense(self.pool_bn(pooled))))


class MusicnnHead(nn.Module):
    """Dropout 0.5 and a dense layer over the 200-d embedding: the input itself (frozen backbone)
    or the Backend's output on the front-end maps (fine-tuned)."""

    def __init__(self, rows, cols, finetune):
        super().__init__()
        self.backend = Backend() if finetune else None
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(200 if finetune else rows * cols, N_CLASSES)

    def forward(self, x):
        emb = self.backend(x) if self.backend is not None else x.flatten(1)
        return self.fc(self.drop(emb))


# model -> (input [rows, cols], constructor)
MODELS = {
    "cnn": ((128, 130), Cnn),
    "resnet": ((128, 130), Resnet),
    "lstm": ((20, 130), LstmNet),
    "crnn": ((128, 130), Crnn),
    "features": ((57, 1), Mlp),
    "musicnn": ((200, 1), lambda r, c: MusicnnHead(r, c, finetune=False)),
    "musicnn-finetune": ((561, 187), lambda r, c: MusicnnHead(r, c, finetune=True)),
}
CASES = {"train_b32": 32, "infer_b1": 1, "infer_b64": 64}


def shape(model):
    return MODELS[model][0]


def build(model):
    rows, cols = shape(model)
    return MODELS[model][1](rows, cols)


def time_reps(fn, min_time):
    """3 untimed warm-ups, then >= 5 timed reps until min_time seconds (cap 1000): times in ms."""
    for _ in range(3):
        fn()
    times, start = [], time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < min_time and len(times) < 1000):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, choices=list(MODELS))
    p.add_argument("--case", required=True, choices=list(CASES))
    p.add_argument("--threads", required=True, type=int)
    p.add_argument("--min-time", type=float, default=2.0)
    a = p.parse_args()
    if a.threads < 1:
        p.error("--threads must be at least 1")
    if not a.min_time >= 0:
        p.error("--min-time must be >= 0")

    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)

    b = CASES[a.case]
    net = build(a.model)
    # As burn's num_params counts them: every parameter (frozen ones too) and batch norm's
    # running mean and variance, which burn keeps as parameters and torch as buffers.
    params = sum(p.numel() for p in net.parameters()) + sum(
        b.numel() for name, b in net.named_buffers() if name.endswith(("running_mean", "running_var")))
    x = torch.randn(b, *shape(a.model))

    if a.case == "train_b32":
        net.train()
        opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-3, weight_decay=1e-4)
        onehot = F.one_hot(torch.arange(b) % N_CLASSES, N_CLASSES).float()

        def step():
            opt.zero_grad()
            logits = net(x)
            loss = -(F.log_softmax(logits, 1) * onehot).sum() / b
            loss.backward()
            opt.step()
            loss.item()
            logits.detach().numpy()

        times = time_reps(step, a.min_time)
    else:
        net.eval()

        def infer():
            with torch.inference_mode():
                net(x).numpy()

        times = time_reps(infer, a.min_time)

    print(json.dumps({
        "model": a.model,
        "case": a.case,
        "threads": a.threads,
        "ms": round(statistics.median(times), 4),
        "ms_min": round(min(times), 4),
        "n": len(times),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "params": params,
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    sys.exit(main())

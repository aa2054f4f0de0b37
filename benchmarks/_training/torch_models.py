"""The package's CNN and ResNet-18 written layer by layer in PyTorch (NCHW), as a user would write them."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["TORCH_MODELS", "TorchCNN", "TorchResNet18"]


def _up(n):
    return -(-n // 2)  # 2x2 pooling that rounds up, like "SAME"


class TorchCNN(nn.Module):
    """``make_model("cnn")`` in PyTorch (NCHW)."""

    def __init__(self, height, width, channels, n_classes, width_=16, hidden=128):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, width_, 3, padding=1)
        self.conv2 = nn.Conv2d(width_, 2 * width_, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2, ceil_mode=True)  # rounds up like "SAME" pooling (7 -> 4)
        self.fc = nn.Linear(_up(_up(height)) * _up(_up(width)) * 2 * width_, hidden)
        self.out = nn.Linear(hidden, n_classes)

    def reset(self, generator):
        with torch.no_grad():
            for layer in (self.conv1, self.conv2, self.fc):
                fan_in = layer.weight[0].numel()
                layer.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)
                layer.bias.zero_()
            self.out.weight.normal_(0.0, 0.01, generator=generator)
            self.out.bias.zero_()

    def forward(self, x):
        h = self.pool(F.relu(self.conv1(x)))
        h = self.pool(F.relu(self.conv2(h)))
        return self.out(F.relu(self.fc(h.flatten(1))))


class _Block(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.short = None
        if stride != 1 or c_in != c_out:
            self.short = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + (x if self.short is None else self.short(x)))


class TorchResNet18(nn.Module):
    """``make_model("resnet18")`` in PyTorch: CIFAR-style ResNet-18."""

    def __init__(self, height, width, channels, n_classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(channels, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        blocks, c_in = [], 64
        for s, c_out in enumerate((64, 128, 256, 512)):
            for b in range(2):
                blocks.append(_Block(c_in, c_out, 2 if (s > 0 and b == 0) else 1))
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Linear(512, n_classes)

    def reset(self, generator):
        with torch.no_grad():
            for mod in self.modules():
                if isinstance(mod, nn.Conv2d):
                    fan_out = mod.weight.shape[0] * mod.weight[0, 0].numel()
                    mod.weight.normal_(0.0, math.sqrt(2.0 / fan_out), generator=generator)

    def forward(self, x):
        return self.out(self.blocks(self.stem(x)).mean(dim=(2, 3)))


TORCH_MODELS = {"cnn": TorchCNN, "resnet18": TorchResNet18}

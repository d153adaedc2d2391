"""A tiny RT-DETRv2 with random weights, saved like a real model directory.

It stands in for downloaded weights: :func:`build_tiny_rtdetr` writes ``config.json``,
``model.safetensors`` and ``preprocessor_config.json`` (the same processor settings the
published checkpoints use, at a 64x64 input), so homesec loads it exactly as it loads
``PekingU/rtdetr_v2_r50vd``. Built in a second or two on a CPU (after importing torch). Its
detections are meaningless but deterministic (fixed seed) and, at the default threshold of 0.5,
not empty.

With the default initialisation every position of the tiny encoder gets the same score, so which
queries the decoder starts from is decided by tie-breaking, which differs between runtimes
(PyTorch and OpenVINO pick different equal-scored anchors). ``distinct_scores=True`` gives the
batch norms random statistics, so scores differ and two runtimes can be compared output for
output.
"""

from __future__ import annotations

import json
from pathlib import Path

# Mixed case on purpose: engines must lower-case labels.
TINY_LABELS = {0: "Person", 1: "car", 2: "dog"}
INPUT_SIZE = 64
_SEED = 0


def build_tiny_rtdetr(path: Path, *, distinct_scores: bool = False) -> Path:
    """Write the tiny model into directory ``path`` (created) and return ``path``."""
    import torch
    from transformers import RTDetrResNetConfig, RTDetrV2Config, RTDetrV2ForObjectDetection

    backbone = RTDetrResNetConfig(
        embedding_size=8,
        hidden_sizes=[8, 16, 16, 16],
        depths=[1, 1, 1, 1],
        layer_type="basic",
        out_indices=[2, 3, 4],
    )
    config = RTDetrV2Config(
        backbone_config=backbone,
        encoder_in_channels=[16, 16, 16],
        encoder_hidden_dim=16,
        encoder_ffn_dim=16,
        encoder_attention_heads=2,
        d_model=16,
        decoder_in_channels=[16, 16, 16],
        decoder_ffn_dim=16,
        # Two is the fewest: the model ties the box heads of layer 0 to the later ones.
        decoder_layers=2,
        decoder_attention_heads=2,
        num_queries=20,
        num_denoising=0,
        id2label=dict(TINY_LABELS),
        label2id={label: index for index, label in TINY_LABELS.items()},
    )
    torch.manual_seed(_SEED)
    model = RTDetrV2ForObjectDetection(config).eval()
    if distinct_scores:
        randomize_batch_norms(model)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    processor = {
        "image_processor_type": "RTDetrImageProcessor",
        "format": "coco_detection",
        "do_resize": True,
        "size": {"height": INPUT_SIZE, "width": INPUT_SIZE},
        "resample": 2,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": False,
        "do_pad": False,
    }
    (path / "preprocessor_config.json").write_text(json.dumps(processor, indent=2))
    return path


def randomize_batch_norms(model) -> None:
    """Random statistics and affine parameters for every batch norm of ``model`` (seeded): with
    the defaults (mean 0, variance 1, scale 1, shift 0) random-weight RT-DETRv2 scores every
    encoder position alike."""
    import torch

    generator = torch.Generator().manual_seed(_SEED + 1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                size = module.num_features
                module.running_mean.copy_(torch.randn(size, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(size, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(size, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(size, generator=generator) * 0.1)


def perturbed_copy(source: Path, path: Path, *, scale: float = 0.3) -> Path:
    """A copy of the model at ``source`` with every weight moved by seeded noise of ``scale``
    times that tensor's own spread: a stand-in for a precision that changes what the model
    finds (bf16 rounding moves the tiny model's scores by about 0.003, too little to)."""
    import shutil

    import torch
    from transformers import RTDetrV2ForObjectDetection

    model = RTDetrV2ForObjectDetection.from_pretrained(source, local_files_only=True).eval()
    generator = torch.Generator().manual_seed(_SEED + 2)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.numel() > 1:
                noise = torch.randn(parameter.shape, generator=generator)
                parameter.add_(noise * parameter.std() * scale)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    shutil.copy(source / "preprocessor_config.json", path / "preprocessor_config.json")
    return path

"""Detector engine benchmark: prints figures, asserts nothing.

On a few synthetic 1280x720 frames, one after another (as uploads arrive), it measures:
  1. PyTorch fp32 (the ``torch`` engine, eager mode, CPU);
  2. OpenVINO f32 (the ``openvino`` engine), one request at a time (two in flight were tried
     and were slower on a 2-core machine; the engine no longer has them);
  3. OpenVINO bf16 (asked for explicitly: unchecked);
each as ms/image (min and median of every image's time) and images/s (1000 / median), with the
OpenVINO conversion (once) and the load from its cache, and agreement with PyTorch fp32: boxes
matched (same label, IoU >= 0.9) and the largest score difference among them.

The model: a directory given with ``--model-dir``, else one built with random weights (the
compute is the same as trained weights'): ``--size tiny`` (the tests' tiny model, 64x64 input),
``r18``, ``r34``, ``r50`` (what homesec pulls by default) or ``r101`` (RT-DETRv2 r18vd ...
r101vd, ``homesec models pull --size``) at ``--input`` (640) square.
Scores of random weights say nothing about detection quality; agreement across engines does.

The process runs with the detector's allocator settings (``policy/process_env.py``), as the
Detector's Ray worker does (without them PyTorch on the CPU runs about twice as slowly);
``--plain-env`` runs without them.

``--arena-compare`` asks whether ``MALLOC_ARENA_MAX=1`` (one of those settings, chosen for
PyTorch) slows OpenVINO: it converts the model once, then runs the OpenVINO cases in two fresh
processes, one with the detector's settings and one with them less ``MALLOC_ARENA_MAX``, each
detecting on a worker thread of its own as the Detector does (a thread's own arena is where
the setting matters), and prints both and their ratio. PyTorch is not run.

    .venv/bin/python bench/detector.py [--size tiny|r18|r34|r50|r101] [--input 640]
        [--model-dir DIR]
        [--frames 4] [--repeats 2] [--threshold 0.3] [--arena-compare]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from homesec.policy.process_env import DETECTOR_PROCESS_ENV

SIZE = (1280, 720)
# The line on which a side of --arena-compare reports its medians (ms/image) to the parent.
MEDIANS = "medians: "
# The repository root, for tests.support's model builders.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def reexec_with_detector_env() -> None:
    """Start again with the detector's allocator settings; they are read at process start."""
    if all(os.environ.get(name) == value for name, value in DETECTOR_PROCESS_ENV.items()):
        return
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **DETECTOR_PROCESS_ENV})


def random_rtdetr(directory: Path, size: str, input_size: int) -> Path:
    """RT-DETRv2 of architecture ``size`` with random weights and 80 classes, saved for loading.

    r50vd is ``RTDetrV2Config``'s default. The others after the original repository's
    configurations: r18vd a ResNet-18 of "basic" blocks (hidden sizes 64-512, depths 2,2,2,2),
    encoder inputs of 128/256/512 channels, the encoder's expansion 0.5 and three decoder
    layers; r34vd the same with depths 3,4,6,3 and four decoder layers; r101vd a ResNet-101 of
    bottleneck blocks (depths 3,4,23,3) and an encoder 384 wide (feed-forward 2048) feeding the
    decoder's 384-channel inputs.

    Batch norms get random statistics: with the defaults every encoder position scores alike,
    and the engines' different tie-breaking would then make agreement meaningless.
    """
    import torch
    from transformers import (
        RTDetrImageProcessor,
        RTDetrResNetConfig,
        RTDetrV2Config,
        RTDetrV2ForObjectDetection,
    )

    from tests.support.tiny_rtdetr import randomize_batch_norms

    labels = {index: f"class_{index}" for index in range(80)} | {0: "person", 2: "car"}
    extra: dict = {}
    if size == "r18":
        extra = {
            "backbone_config": RTDetrResNetConfig(
                depths=[2, 2, 2, 2],
                hidden_sizes=[64, 128, 256, 512],
                layer_type="basic",
                out_indices=[2, 3, 4],
            ),
            "encoder_in_channels": [128, 256, 512],
            "hidden_expansion": 0.5,
            "decoder_layers": 3,
        }
    elif size == "r34":
        extra = {
            "backbone_config": RTDetrResNetConfig(
                depths=[3, 4, 6, 3],
                hidden_sizes=[64, 128, 256, 512],
                layer_type="basic",
                out_indices=[2, 3, 4],
            ),
            "encoder_in_channels": [128, 256, 512],
            "hidden_expansion": 0.5,
            "decoder_layers": 4,
        }
    elif size == "r101":
        extra = {
            "backbone_config": RTDetrResNetConfig(
                depths=[3, 4, 23, 3],
                hidden_sizes=[256, 512, 1024, 2048],
                layer_type="bottleneck",
                out_indices=[2, 3, 4],
            ),
            "encoder_hidden_dim": 384,
            "encoder_ffn_dim": 2048,
            "decoder_in_channels": [384, 384, 384],
        }
    config = RTDetrV2Config(
        use_pretrained_backbone=False,
        id2label=labels,
        label2id={label: index for index, label in labels.items()},
        **extra,
    )
    torch.manual_seed(0)
    model = RTDetrV2ForObjectDetection(config).eval()
    randomize_batch_norms(model)
    model.save_pretrained(directory)
    RTDetrImageProcessor(size={"height": input_size, "width": input_size}).save_pretrained(
        directory
    )
    return directory


def make_frames(count: int) -> list:
    """Camera-like 1280x720 frames: a gradient, noise and a few solid shapes, each different."""
    from PIL import Image, ImageDraw

    frames = []
    base = Image.linear_gradient("L").resize(SIZE).convert("RGB")
    for index in range(count):
        frame = base.copy()
        frame.paste(Image.effect_noise((SIZE[0] // 2, SIZE[1] // 2), 30 + 7 * index), (0, 360))
        draw = ImageDraw.Draw(frame)
        for shape in range(3):
            x, y = 150 + 300 * shape + 40 * index, 100 + 60 * index
            draw.rectangle((x, y, x + 120, y + 300), fill=(40 * shape, 200 - 50 * index, 90))
        frames.append(frame)
    return frames


def timed_per_image(detect: Callable, frames: Sequence, repeats: int) -> list[float]:
    """Milliseconds of each image's detection, image by image, ``repeats`` times over."""
    times = []
    for _ in range(repeats):
        for frame in frames:
            started = time.perf_counter()
            detect([frame])
            times.append((time.perf_counter() - started) * 1000)
    return times


def timed_batch(detect: Callable, frames: Sequence, repeats: int) -> list[float]:
    """Milliseconds per image of whole-batch calls (all frames at once)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        detect(list(frames))
        times.append((time.perf_counter() - started) * 1000 / len(frames))
    return times


def iou(a, b) -> float:
    ax1, ay1, ax2, ay2 = a.x, a.y, a.x + a.width, a.y + a.height
    bx1, by1, bx2, by2 = b.x, b.y, b.x + b.width, b.y + b.height
    inter = max(0, min(ax2, bx2) - max(ax1, bx1)) * max(0, min(ay2, by2) - max(ay1, by1))
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union else 0.0


def agreement(reference: list[list], candidate: list[list]) -> str:
    """Boxes of ``reference`` matched in ``candidate`` (same label, IoU >= 0.9; greedy) and the
    largest score difference among the matched."""
    matched = total = extra = 0
    worst = 0.0
    for want_found, got_found in zip(reference, candidate, strict=True):
        left = list(got_found)
        total += len(want_found)
        for want in want_found:
            best = max(
                (got for got in left if got.object_type == want.object_type),
                key=lambda got, want=want: iou(got.bbox, want.bbox),
                default=None,
            )
            if best is not None and iou(best.bbox, want.bbox) >= 0.9:
                matched += 1
                worst = max(worst, abs(best.confidence - want.confidence))
                left.remove(best)
        extra += len(left)
    return f"matched {matched}/{total} boxes, {extra} extra, max score diff {worst:.2e}"


def raw_agreement(torch_model, engine, frames: Sequence) -> str:
    """The largest differences of the raw outputs, query by query and class by class: sigmoid
    scores and box coordinates (relative), on the same preprocessed frames. Two near-tied queries
    that swap places show here as a large difference though the detections agree."""
    import numpy as np
    import torch

    score_diff = box_diff = 0.0
    for frame in frames:
        pixels = engine._preprocess(frame.convert("RGB"))
        with torch.inference_mode():
            outputs = torch_model(pixel_values=torch.from_numpy(pixels))
        engine._request.infer({0: pixels})
        logits = engine._request.get_output_tensor(0).data
        boxes = engine._request.get_output_tensor(1).data
        want = torch.sigmoid(outputs.logits).numpy()
        score_diff = max(score_diff, float(np.abs(1 / (1 + np.exp(-logits)) - want).max()))
        box_diff = max(box_diff, float(np.abs(boxes - outputs.pred_boxes.numpy()).max()))
    return f"raw: max score diff {score_diff:.2e}, max box diff {box_diff:.2e} (of the image)"


def line(label: str, times: list[float]) -> str:
    median = statistics.median(times)
    return (
        f"  {label:<28} {min(times):8.1f} ms min {median:8.1f} ms median "
        f"{1000 / median:7.2f} images/s"
    )


def openvino_cases(
    model_dir: Path,
    cache: Path,
    frames: Sequence,
    args: argparse.Namespace,
    expected=None,
    torch_model=None,
    on_thread: bool = False,
) -> dict[str, float]:
    """OpenVINO f32 and bf16, image by image and in batches; agreement with PyTorch when its
    detections are given. ``on_thread``: detect on one worker thread, as the Detector does.
    Returns each precision's median ms/image, image by image."""
    from homesec.engines.detector.rtdetr_openvino import OpenVinoRtDetrDetector

    medians: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="detect") as worker:
        for precision in ("f32", "bf16"):
            engine = OpenVinoRtDetrDetector(
                str(model_dir),
                cache_root=cache,
                precision=precision,
                confidence_threshold=args.threshold,
            )

            def run(timer: Callable, engine=engine) -> list[float]:
                if not on_thread:
                    return timer(engine.detect, frames, args.repeats)
                return worker.submit(timer, engine.detect, frames, args.repeats).result()

            run(lambda detect, frames, repeats: detect([frames[0]] * 2))  # warm up, same thread
            label = f"openvino {precision} ({engine.compiled_precision})"
            per_image = run(timed_per_image)
            medians[precision] = statistics.median(per_image)
            print(line(label, per_image))
            print(line(f"{label} (batch)", run(timed_batch)))
            if expected is not None:
                print(f"    vs torch fp32: {agreement(expected, engine.detect(frames))}")
                print(f"    vs torch fp32, {raw_agreement(torch_model, engine, frames)}")
            del engine
    return medians


def arena_compare(model_dir: Path, cache: Path, args: argparse.Namespace) -> None:
    """The OpenVINO cases in two fresh processes: with ``MALLOC_ARENA_MAX=1`` and without."""
    from homesec.engines.detector.rtdetr_openvino import OpenVinoRtDetrDetector

    started = time.perf_counter()
    OpenVinoRtDetrDetector(str(model_dir), cache_root=cache)  # converted once, for both
    print(f"  openvino: conversion (once) {time.perf_counter() - started:.1f} s")
    without = {k: v for k, v in DETECTOR_PROCESS_ENV.items() if k != "MALLOC_ARENA_MAX"}
    plain = {k: v for k, v in os.environ.items() if k not in DETECTOR_PROCESS_ENV}
    command = [
        sys.executable, __file__, "--openvino-only", "--model-dir", str(model_dir),
        "--cache-dir", str(cache), "--frames", str(args.frames), "--repeats", str(args.repeats),
        "--threshold", str(args.threshold),
    ]  # fmt: skip
    medians: dict[str, dict[str, float]] = {}
    for label, env in (
        ("with MALLOC_ARENA_MAX=1 (the detector's settings)", DETECTOR_PROCESS_ENV),
        ("without MALLOC_ARENA_MAX (the other settings kept)", without),
    ):
        print(f"{label}: {' '.join(f'{k}={v}' for k, v in env.items())}", flush=True)
        done = subprocess.run(command, env={**plain, **env}, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"the OpenVINO run {label} failed:\n{done.stdout}{done.stderr}")
        shown = [row for row in done.stdout.splitlines() if not row.startswith(MEDIANS)]
        print("\n".join(shown), flush=True)
        [reported] = [row for row in done.stdout.splitlines() if row.startswith(MEDIANS)]
        medians[label] = json.loads(reported.removeprefix(MEDIANS))
    with_ms, without_ms = medians.values()
    for precision in ("f32", "bf16"):
        ratio = without_ms[precision] / with_ms[precision]
        print(f"  {precision}: median {with_ms[precision]:.1f} ms with one arena, "
              f"{without_ms[precision]:.1f} ms without ({ratio:.2f}x; above 1: one arena "
              "is faster)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("tiny", "r18", "r34", "r50", "r101"), default="tiny")
    parser.add_argument("--input", type=int, default=640, help="input side for r18/r50")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threshold", type=float, default=0.1)
    parser.add_argument(
        "--plain-env", action="store_true", help="without the detector's allocator settings"
    )
    parser.add_argument(
        "--arena-compare",
        action="store_true",
        help="OpenVINO only, in two processes: with and without MALLOC_ARENA_MAX=1",
    )
    # One side of --arena-compare: its process environment is set by the parent.
    parser.add_argument("--openvino-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.openvino_only:
        frames = make_frames(args.frames)
        medians = openvino_cases(args.model_dir, args.cache_dir, frames, args, on_thread=True)
        print(MEDIANS + json.dumps(medians))
        return
    if not args.plain_env and not args.arena_compare:
        reexec_with_detector_env()

    import logging

    logging.basicConfig(level=logging.WARNING)
    import openvino

    from homesec.engines.detector.rtdetr import RtDetrDetector
    from homesec.engines.detector.rtdetr_openvino import OpenVinoRtDetrDetector

    with tempfile.TemporaryDirectory(prefix="homesec-bench-detector-") as scratch:
        work = Path(scratch)
        if args.model_dir is not None:
            model_dir, what = args.model_dir, str(args.model_dir)
        elif args.size == "tiny":
            from tests.support.tiny_rtdetr import INPUT_SIZE, build_tiny_rtdetr

            model_dir = build_tiny_rtdetr(work / "tiny", distinct_scores=True)
            what = f"tiny RT-DETRv2 (random weights), input {INPUT_SIZE}x{INPUT_SIZE}"
        else:
            model_dir = random_rtdetr(work / args.size, args.size, args.input)
            what = f"RT-DETRv2 {args.size}vd (random weights), input {args.input}x{args.input}"
        frames = make_frames(args.frames)
        print(f"model: {what}")
        print(
            f"frames: {len(frames)} of {SIZE[0]}x{SIZE[1]}, each timed {args.repeats}x; "
            f"threshold {args.threshold}; {os.cpu_count()} CPUs; openvino {openvino.get_version()}"
        )
        if args.arena_compare:
            arena_compare(model_dir, work / "openvino", args)
            return

        reference = RtDetrDetector(
            str(model_dir), device="cpu", confidence_threshold=args.threshold
        )
        reference.warm_up(1)
        expected = reference.detect(frames)
        per_image = timed_per_image(reference.detect, frames, args.repeats)
        print(line("torch fp32 (1 image/call)", per_image))
        print(line("torch fp32 (batch)", timed_batch(reference.detect, frames, args.repeats)))
        print(f"  torch fp32 finds {sum(map(len, expected))} boxes at {args.threshold}")
        torch_model = reference._model
        del reference

        cache = work / "openvino"
        started = time.perf_counter()
        OpenVinoRtDetrDetector(str(model_dir), cache_root=cache)
        print(f"  openvino: conversion (once) {time.perf_counter() - started:.1f} s", end="")
        started = time.perf_counter()
        OpenVinoRtDetrDetector(str(model_dir), cache_root=cache)
        print(f", load from cache + compile {time.perf_counter() - started:.2f} s")
        openvino_cases(model_dir, cache, frames, args, expected, torch_model)


if __name__ == "__main__":
    main()

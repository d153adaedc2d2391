"""Model weights on disk: fetched once by ``homesec models pull``, found again at start-up.

Pulled models live in ``<data dir>/models/<hub id>`` as plain directories (config, weights,
processor), so a machine without internet can be given a copied directory instead (``homesec
models import``, :mod:`.model_import`, puts it there). Engines load with ``local_files_only``:
nothing downloads while the service runs.

RT-DETRv2 comes in four sizes (:data:`DETECTOR_SIZES`, ``homesec models pull --size``): the
backbone's ResNet depth. The README's "Which model size" says which fits which machine.
"""

from __future__ import annotations

import re
from pathlib import Path

from homesec.contract.errors import HomesecError
from homesec.settings import Settings

# Hub ids are "name" or "owner/name" of letters, digits, "-", "_" and ".".
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")
# The published RT-DETRv2 checkpoints by backbone, smallest first; r50 is DETECTOR_MODEL's default.
HUB_OWNER = "PekingU"
DETECTOR_SIZES = {
    "r18": f"{HUB_OWNER}/rtdetr_v2_r18vd",
    "r34": f"{HUB_OWNER}/rtdetr_v2_r34vd",
    "r50": f"{HUB_OWNER}/rtdetr_v2_r50vd",
    "r101": f"{HUB_OWNER}/rtdetr_v2_r101vd",
}
# Weights in formats transformers' PyTorch path never reads: skipping them saves gigabytes.
_FOREIGN_WEIGHTS = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "*.onnx_data", "*.tflite", "*.mlmodel"]


class ModelPullError(HomesecError):
    """A model could not be fetched. The message says what to do instead."""


def models_dir(settings: Settings) -> Path:
    return settings.data_dir / "models"


def _is_hub_id(text: str) -> bool:
    return bool(_HUB_ID.fullmatch(text)) and ".." not in text


def pulled_model_dir(root: Path, model_id: str) -> Path:
    """Where ``model_id`` lies once pulled into ``root``: ``root/owner/name``."""
    if not _is_hub_id(model_id):
        raise ModelPullError(
            f"{model_id!r} is not a Hugging Face model id (owner/name, such as "
            "PekingU/rtdetr_v2_r50vd)"
        )
    return root / model_id


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def pull_model(model_id: str, dest: Path, progress: bool = True) -> Path:
    """Download ``model_id`` from the Hugging Face Hub into ``dest/<model_id>`` and return that
    directory. A finished earlier pull is kept; an interrupted one is resumed."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    from huggingface_hub.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    target = pulled_model_dir(dest, model_id)
    were_disabled = are_progress_bars_disabled()
    if not progress:
        disable_progress_bars()
    try:
        snapshot_download(model_id, local_dir=target, ignore_patterns=_FOREIGN_WEIGHTS)
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        raise ModelPullError(
            f"could not download {model_id} from the Hugging Face Hub ({_first_line(exc)}). "
            "Without internet access, pull it on a machine that has it and copy "
            f"<data dir>/models/{model_id} (for the detector: config.json, "
            "preprocessor_config.json, model.safetensors) here, then run `homesec models import "
            "PATH` (a directory or a .tar.gz/.zip of it); or set DETECTOR_MODEL (or LLM_MODEL) to "
            f"the copied directory, or place it at {target}"
        ) from exc
    finally:
        if not progress and not were_disabled:
            enable_progress_bars()
    if not _is_model_dir(target):
        raise ModelPullError(f"{model_id} was downloaded to {target} but holds no config.json")
    return target


def model_guidance(settings: Settings, model_ref: str) -> str:
    """What to set so that ``homesec up`` loads ``model_ref`` (a hub id or a directory)."""
    if model_ref == settings.detector_model.strip():
        return f"DETECTOR_MODEL is {model_ref}: `homesec up` uses it"
    return (
        f"to use it, set DETECTOR_MODEL={model_ref} (in the environment or in "
        f'{settings.data_dir / "homesec.toml"} as detector_model = "{model_ref}"); '
        f"DETECTOR_MODEL is now {settings.detector_model}"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def resolve_model_path(settings: Settings, model_ref: str | None = None) -> str:
    """What to load for ``model_ref`` (default ``DETECTOR_MODEL``): the local directory it names
    when there is one, else its pulled copy under the data directory, else the hub id itself
    (which loaders then look up in the local Hugging Face cache only)."""
    ref = (model_ref or settings.detector_model).strip()
    local = Path(ref).expanduser()
    if local.is_dir():
        return str(local)
    if _is_hub_id(ref):
        pulled = pulled_model_dir(models_dir(settings), ref)
        if _is_model_dir(pulled):
            return str(pulled)
    return ref

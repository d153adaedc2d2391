"""``homesec models import PATH``: a detector model copied from another machine, checked and put
where ``homesec up`` looks for it.

PATH is a model directory (``config.json``, ``model.safetensors``, ``preprocessor_config.json``)
or an archive of one (``.tar``, ``.tar.gz``/``.tgz``, ``.zip``), with the model at its top or in
one folder inside. An archive is checked before anything is unpacked: every member a plain file
or folder, its path relative and staying inside (no ``..``, no absolute path, no link, no
device), and :data:`MAX_UNPACKED_BYTES` in all. It is unpacked (or the directory copied) into a
scratch folder under ``<data dir>/models``; the model is checked there (an RT-DETRv2
``config.json`` that transformers' ``RTDetrV2Config`` loads without downloading, weights whose
safetensors header reads, a processor configuration the engines can follow) and only then
renamed into place:

- a folder named as a published checkpoint (``rtdetr_v2_r50vd`` ...) goes to
  ``<data dir>/models/PekingU/<name>``, where ``homesec models pull`` would have put it, so
  ``DETECTOR_MODEL=PekingU/<name>`` finds it;
- any other to ``<data dir>/models/imported/<name>``, and ``DETECTOR_MODEL`` is that directory.

Every refusal is one :class:`ModelImportError` line saying what to do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from homesec.contract.errors import HomesecError
from homesec.engines.model_store import DETECTOR_SIZES, HUB_OWNER

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
# The largest published checkpoint (r101vd) is about 300 MB; a model of 4 GiB is not one.
MAX_UNPACKED_BYTES = 4 * 1024**3
RT_DETR_V2 = "rt_detr_v2"
IMPORTED = "imported"
_PUBLISHED = {hub_id.split("/")[1]: hub_id for hub_id in DETECTOR_SIZES.values()}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
WANTED = "config.json, model.safetensors (or pytorch_model.bin) and preprocessor_config.json"


class ModelImportError(HomesecError):
    """The path is not an importable model. The message says what to do."""


@dataclass(frozen=True)
class ImportedModel:
    path: Path  # where it now lies
    model_ref: str  # what DETECTOR_MODEL names it by: a hub id or the directory
    replaced: bool


def import_model(source: Path, models_root: Path, *, replace: bool = False) -> ImportedModel:
    """Check the model at ``source`` (a directory or an archive) and put it under
    ``models_root``. :class:`ModelImportError` for anything that is not a usable model."""
    source = source.expanduser()
    if not source.exists():
        raise ModelImportError(f"{source} does not exist: give a model directory or an archive")
    models_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".import-", dir=models_root))
    try:
        if source.is_dir():
            unpacked = scratch / _safe_name(source.resolve().name)
            shutil.copytree(source, unpacked, symlinks=False)
            model_dir = find_model_dir(unpacked, source)
            name = model_dir.name
        elif _archive_suffix(source) is not None:
            unpacked = scratch / "unpacked"
            unpack_archive(source, unpacked)
            model_dir = find_model_dir(unpacked, source)
            name = model_dir.name if model_dir != unpacked else _archive_stem(source)
        else:
            raise ModelImportError(
                f"{source} is neither a directory nor an archive ({', '.join(ARCHIVE_SUFFIXES)}):"
                f" give the model's directory ({WANTED}) or an archive of it"
            )
        check_model_dir(model_dir, source)
        return _place(model_dir, models_root, _safe_name(name), replace=replace)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _archive_suffix(path: Path) -> str | None:
    lowered = path.name.lower()
    return next((suffix for suffix in ARCHIVE_SUFFIXES if lowered.endswith(suffix)), None)


def _archive_stem(path: Path) -> str:
    suffix = _archive_suffix(path) or ""
    return path.name[: len(path.name) - len(suffix)] or "model"


def _safe_name(name: str) -> str:
    cleaned = _SAFE_NAME.sub("_", name).strip("._") or "model"
    return cleaned[:100]


# --- archives -----------------------------------------------------------------------------------


def _refuse_member(source: Path, name: str, why: str) -> ModelImportError:
    return ModelImportError(
        f"refusing {source}: its member {name!r} {why}; unpack it yourself, check it, and import "
        "the directory"
    )


def _check_member_name(source: Path, name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name):
        raise _refuse_member(source, name, "has an absolute path")
    if ".." in path.parts:
        raise _refuse_member(source, name, "would land outside the folder it is unpacked into")


def unpack_archive(source: Path, target: Path) -> None:
    """Unpack ``source`` into ``target`` after checking every member (see the module)."""
    target.mkdir(parents=True)
    try:
        if _archive_suffix(source) == ".zip":
            _unpack_zip(source, target)
        else:
            _unpack_tar(source, target)
    except ModelImportError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0].rstrip(":")
        raise ModelImportError(
            f"{source} is not a readable archive ({type(exc).__name__}: {first}); copy it again, "
            "or import the model's directory"
        ) from exc


def _unpack_tar(source: Path, target: Path) -> None:
    with tarfile.open(source, "r:*") as archive:
        members = archive.getmembers()
        total = 0
        for member in members:
            _check_member_name(source, member.name)
            if member.issym() or member.islnk():
                raise _refuse_member(source, member.name, "is a link")
            if not (member.isfile() or member.isdir()):
                raise _refuse_member(source, member.name, "is not a file or a folder")
            total += member.size
            if total > MAX_UNPACKED_BYTES:
                raise _refuse_member(source, member.name, "takes it over 4 GiB unpacked")
        # The standard library's own checks too (Python 3.11.4+), should ours miss a case.
        if hasattr(tarfile, "data_filter"):
            archive.extractall(target, members=members, filter="data")
        else:  # pragma: no cover - older Pythons
            archive.extractall(target, members=members)


def _unpack_zip(source: Path, target: Path) -> None:
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
        total = 0
        for info in infos:
            _check_member_name(source, info.filename)
            mode = info.external_attr >> 16
            if mode and stat.S_ISLNK(mode):
                raise _refuse_member(source, info.filename, "is a link")
            total += info.file_size
            if total > MAX_UNPACKED_BYTES:
                raise _refuse_member(source, info.filename, "takes it over 4 GiB unpacked")
        for info in infos:  # names checked above; extract() verifies each CRC
            archive.extract(info, target)


# --- the model ----------------------------------------------------------------------------------


def find_model_dir(root: Path, source: Path) -> Path:
    """``root`` when it holds ``config.json``, else the one folder below it (up to three levels)
    that does."""
    if (root / "config.json").is_file():
        return root
    found = sorted(
        path.parent
        for path in root.rglob("config.json")
        if path.is_file() and len(path.relative_to(root).parts) <= 4
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )  # fmt: skip
    if not found:
        raise ModelImportError(
            f"{source} holds no config.json: not a model directory. Give the folder that holds "
            f"{WANTED} (what `homesec models pull` writes under <data dir>/models/PekingU/)"
        )
    if len(found) > 1:
        names = ", ".join(str(path.relative_to(root)) for path in found[:4])
        raise ModelImportError(f"{source} holds several models ({names}): import one at a time")
    return found[0]


def check_model_dir(model_dir: Path, source: Path) -> None:
    """An RT-DETRv2 whose config loads, whose weights are there and readable, and whose
    processor configuration the engines follow; :class:`ModelImportError` otherwise."""
    try:
        config = json.loads((model_dir / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelImportError(f"{source}: config.json is not readable JSON ({exc})") from exc
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if model_type != RT_DETR_V2:
        raise ModelImportError(
            f"{source} is a {model_type or 'model of no stated type'}, not an RT-DETRv2 "
            f"(config.json's model_type is {model_type!r}, not {RT_DETR_V2!r}); homesec's "
            f"detector needs one of {', '.join(DETECTOR_SIZES.values())}"
        )
    _check_weights(model_dir, source)
    processor = model_dir / "preprocessor_config.json"
    if not processor.is_file():
        raise ModelImportError(
            f"{source} has no preprocessor_config.json: copy it too (it lies beside config.json "
            "in the model's directory)"
        )
    from homesec.engines.detector.rtdetr_openvino import ConversionError, Preprocessing

    try:
        Preprocessing.from_json(processor)
    except (ConversionError, OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelImportError(f"{source}: preprocessor_config.json is not usable ({exc})") from exc
    try:
        from transformers import RTDetrV2Config

        RTDetrV2Config.from_pretrained(model_dir, local_files_only=True)
    except Exception as exc:  # whatever transformers makes of a bad config
        raise ModelImportError(
            f"{source}: config.json does not load as an RT-DETRv2 configuration "
            f"({type(exc).__name__}: {exc})"
        ) from exc


def _check_weights(model_dir: Path, source: Path) -> None:
    safetensors = sorted(model_dir.glob("*.safetensors"))
    pickled = sorted(model_dir.glob("pytorch_model*.bin"))
    if not safetensors and not pickled:
        raise ModelImportError(
            f"{source} has no weights (model.safetensors or pytorch_model.bin): copy the whole "
            "model directory"
        )
    for path in safetensors:
        try:
            from safetensors import safe_open

            with safe_open(str(path), framework="numpy") as weights:
                if not list(weights.keys()):
                    raise ValueError("no tensors")
        except Exception as exc:  # a truncated or damaged file
            raise ModelImportError(
                f"{source}: {path.name} is damaged or incomplete ({type(exc).__name__}: {exc}); "
                "copy it again"
            ) from exc
    for path in pickled:
        if path.stat().st_size == 0:
            raise ModelImportError(f"{source}: {path.name} is empty; copy it again")


def _place(model_dir: Path, models_root: Path, name: str, *, replace: bool) -> ImportedModel:
    if name in _PUBLISHED:
        target = models_root / HUB_OWNER / name
        model_ref = _PUBLISHED[name]
    else:
        target = models_root / IMPORTED / name
        model_ref = str(target)
    replaced = False
    if target.exists():
        if not replace:
            raise ModelImportError(
                f"{target} exists already (a model imported or pulled before): pass --replace to "
                "put this one in its place"
            )
        aside = target.with_name(f".replaced-{target.name}-{os.getpid()}-{time.monotonic_ns()}")
        target.rename(aside)
        shutil.rmtree(aside, ignore_errors=True)
        replaced = True
    target.parent.mkdir(parents=True, exist_ok=True)
    model_dir.rename(target)
    return ImportedModel(path=target, model_ref=model_ref, replaced=replaced)

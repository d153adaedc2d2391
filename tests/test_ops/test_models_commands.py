"""`homesec models pull --size`, `import` and `check`: what the owner types and reads.

Pulling needs the Hugging Face Hub, which tests never reach: the argument handling and the
guidance are tested with the download stood in for, and the real path offline (its refusal).
Imports and checks run for real on the tiny random-weight RT-DETRv2 and the real OpenVINO.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from homesec.engines import model_store
from homesec.engines.detector.rtdetr_openvino import OpenVinoRtDetrDetector, cpu_has_bf16
from homesec.engines.model_import import ModelImportError, import_model
from homesec.engines.model_store import DETECTOR_SIZES, resolve_model_path
from homesec.ops import cli, models
from homesec.settings import load_settings
from tests.support.tiny_rtdetr import build_tiny_rtdetr

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_rtdetr(tmp_path_factory.mktemp("src") / "tiny-rtdetr", distinct_scores=True)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, tiny: Path) -> Path:
    """The tiny model converted once; the key hashes contents, so an imported copy hits it."""
    root = tmp_path_factory.mktemp("converted") / "openvino"
    OpenVinoRtDetrDetector(str(tiny), cache_root=root)
    return root


def settings_in(data_dir: Path, **env: str):
    return load_settings({"HOMESEC_DATA_DIR": str(data_dir), **env})


def with_conversion(data_dir: Path, converted: Path) -> Path:
    """A data dir whose OpenVINO cache already holds the tiny model's conversion."""
    shutil.copytree(converted, data_dir / "models" / "openvino")
    return data_dir


def run(settings, *argv: str) -> tuple[int, list[str]]:
    said: list[str] = []
    args = cli.build_parser().parse_args(["models", *argv])
    return models.run(settings, args, said.append), said


def run_cli(monkeypatch, capsys, data_dir: Path, *argv: str, **env: str):
    """`homesec ARGV` in this process, as a user runs it: (exit code, stdout, stderr)."""
    for name in ("HOMESEC_CONFIG", "DETECTOR_MODEL", "DETECTOR_PRECISION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOMESEC_DATA_DIR", str(data_dir))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- pull ---------------------------------------------------------------------------------------


def test_sizes_name_the_published_checkpoints():
    assert DETECTOR_SIZES == {
        "r18": "PekingU/rtdetr_v2_r18vd",
        "r34": "PekingU/rtdetr_v2_r34vd",
        "r50": "PekingU/rtdetr_v2_r50vd",
        "r101": "PekingU/rtdetr_v2_r101vd",
    }


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--size", "r18"], "PekingU/rtdetr_v2_r18vd"),
        (["--size", "r101"], "PekingU/rtdetr_v2_r101vd"),
        (["org/other"], "org/other"),
        ([], "PekingU/rtdetr_v2_r50vd"),  # DETECTOR_MODEL's default
    ],
)
def test_pull_downloads_what_was_asked_for(tmp_path, monkeypatch, argv, expected):
    pulled: list[tuple[str, Path]] = []

    def fake_pull(model_id, dest, progress=True):
        pulled.append((model_id, dest))
        return dest / model_id

    monkeypatch.setattr(model_store, "pull_model", fake_pull)
    code, said = run(settings_in(tmp_path), "pull", *argv)
    assert code == 0
    assert pulled == [(expected, tmp_path / "models")]
    assert said[0] == f"{expected} is ready in {tmp_path / 'models' / expected}"


def test_pull_says_how_to_use_a_size_that_is_not_configured(tmp_path, monkeypatch):
    monkeypatch.setattr(model_store, "pull_model", lambda model_id, dest, progress=True: dest)
    _, said = run(settings_in(tmp_path), "pull", "--size", "r18")
    assert said[1] == (
        "to use it, set DETECTOR_MODEL=PekingU/rtdetr_v2_r18vd (in the environment or in "
        f'{tmp_path / "homesec.toml"} as detector_model = "PekingU/rtdetr_v2_r18vd"); '
        "DETECTOR_MODEL is now PekingU/rtdetr_v2_r50vd"
    )
    configured = settings_in(tmp_path, DETECTOR_MODEL="PekingU/rtdetr_v2_r18vd")
    _, said = run(configured, "pull", "--size", "r18")
    assert said[1] == "DETECTOR_MODEL is PekingU/rtdetr_v2_r18vd: `homesec up` uses it"


def test_pull_takes_an_id_or_a_size_not_both(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["models", "pull", "org/x", "--size", "r18"])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["models", "pull", "--size", "r200"])


def test_pull_offline_fails_in_one_line_pointing_at_import(tmp_path, monkeypatch, capsys):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    code, _out, err = run_cli(monkeypatch, capsys, tmp_path, "models", "pull", "--size", "r34")
    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith("homesec: could not download PekingU/rtdetr_v2_r34vd")
    assert "homesec models import PATH" in line


# --- import -------------------------------------------------------------------------------------


def pack_tar(model: Path, archive: Path, folder: str | None = None) -> Path:
    with tarfile.open(archive, "w:gz" if archive.name.endswith("gz") else "w") as tar:
        tar.add(model, arcname=folder or model.name)
    return archive


def pack_zip(model: Path, archive: Path, folder: str | None = None) -> Path:
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(model.iterdir()):
            zipped.write(path, f"{folder or model.name}/{path.name}")
    return archive


def assert_no_scratch_left(data_dir: Path) -> None:
    root = data_dir / "models"
    if root.exists():
        assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []


def test_import_a_directory_converts_it_with_progress(tiny, tmp_path):
    settings = settings_in(tmp_path / "data")
    code, said = run(settings, "import", str(tiny))
    assert code == 0
    target = tmp_path / "data" / "models" / "imported" / "tiny-rtdetr"
    assert said[0] == f"checking {tiny} ..."
    assert said[1] == f"imported: the model is in {target}"
    assert said[2].startswith(f"to use it, set DETECTOR_MODEL={target} ")
    assert said[3].startswith("loading the model (the first time: converting it for OpenVINO")
    assert said[-1].startswith("converted for OpenVINO in ")
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in tiny.iterdir())
    # `homesec up` finds it under the DETECTOR_MODEL printed, and loads from the conversion.
    assert resolve_model_path(settings_in(tmp_path / "data", DETECTOR_MODEL=str(target))) == str(
        target
    )
    again = OpenVinoRtDetrDetector(
        str(target), cache_root=tmp_path / "data" / "models" / "openvino"
    )
    assert again.converted_now is False
    assert_no_scratch_left(tmp_path / "data")


@pytest.mark.parametrize("pack", ["tar.gz", "tgz", "tar", "zip"])
def test_import_an_archive(tiny, converted, tmp_path, pack):
    data = with_conversion(tmp_path / "data", converted)
    packer = pack_zip if pack == "zip" else pack_tar
    archive = packer(tiny, tmp_path / f"model.{pack}")
    code, said = run(settings_in(data), "import", str(archive))
    assert code == 0
    target = data / "models" / "imported" / "tiny-rtdetr"
    assert f"imported: the model is in {target}" in said
    assert said[-1].startswith("the OpenVINO conversion was there already: ")
    assert (target / "model.safetensors").is_file()
    assert_no_scratch_left(data)


def test_a_published_checkpoints_folder_lands_where_pull_puts_it(tiny, converted, tmp_path):
    data = with_conversion(tmp_path / "data", converted)
    archive = pack_tar(tiny, tmp_path / "from-the-laptop.tar.gz", folder="rtdetr_v2_r18vd")
    code, said = run(settings_in(data), "import", str(archive))
    assert code == 0
    target = data / "models" / "PekingU" / "rtdetr_v2_r18vd"
    assert said[1] == f"imported: the model is in {target}"
    assert said[2].startswith("to use it, set DETECTOR_MODEL=PekingU/rtdetr_v2_r18vd ")
    assert resolve_model_path(settings_in(data, DETECTOR_MODEL="PekingU/rtdetr_v2_r18vd")) == str(
        target
    )


def test_a_flat_archive_is_named_after_itself(tiny, converted, tmp_path):
    data = with_conversion(tmp_path / "data", converted)
    archive = tmp_path / "rtdetr_v2_r50vd.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in tiny.iterdir():
            zipped.write(path, path.name)
    code, said = run(settings_in(data), "import", str(archive))
    target = data / "models" / "PekingU" / "rtdetr_v2_r50vd"
    assert code == 0 and said[1] == f"imported: the model is in {target}"
    # The default DETECTOR_MODEL: nothing to set.
    assert said[2] == "DETECTOR_MODEL is PekingU/rtdetr_v2_r50vd: `homesec up` uses it"


def test_importing_over_an_earlier_import_needs_replace(tiny, converted, tmp_path):
    data = with_conversion(tmp_path / "data", converted)
    assert run(settings_in(data), "import", str(tiny))[0] == 0
    with pytest.raises(ModelImportError, match=r"exists already .* pass --replace"):
        run(settings_in(data), "import", str(tiny))
    code, said = run(settings_in(data), "import", str(tiny), "--replace")
    assert code == 0 and said[1].startswith("replaced: the model is in ")
    assert_no_scratch_left(data)


# --- refusals -----------------------------------------------------------------------------------


def broken_copy(tiny: Path, tmp_path: Path, damage) -> Path:
    copy = Path(shutil.copytree(tiny, tmp_path / "copy" / "tiny-rtdetr"))
    damage(copy)
    return copy


def set_model_type(copy: Path, model_type: str) -> None:
    config = json.loads((copy / "config.json").read_text())
    config["model_type"] = model_type
    (copy / "config.json").write_text(json.dumps(config))


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda c: (c / "config.json").unlink(), "holds no config.json: not a model directory"),
        (lambda c: (c / "config.json").write_text("{oops"), "config.json is not readable JSON"),
        (lambda c: set_model_type(c, "detr"), "is a detr, not an RT-DETRv2"),
        (lambda c: (c / "model.safetensors").unlink(), "has no weights (model.safetensors"),
        (lambda c: truncate(c / "model.safetensors"), "model.safetensors is damaged or incomplete"),
        (lambda c: (c / "preprocessor_config.json").unlink(), "has no preprocessor_config.json"),
    ],
    ids=["no config", "bad json", "not rt-detr", "no weights", "truncated weights", "no processor"],
)
def test_a_wrong_directory_is_refused(tiny, tmp_path, damage, message):
    copy = broken_copy(tiny, tmp_path, damage)
    data = tmp_path / "data"
    with pytest.raises(ModelImportError) as refused:
        import_model(copy, data / "models")
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not (data / "models" / "imported").exists()
    assert_no_scratch_left(data)


def evil_tar(archive: Path, member: tarfile.TarInfo, data: bytes = b"x") -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        if member.isfile():
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        else:
            tar.addfile(member)
    return archive


def symlink_member() -> tarfile.TarInfo:
    member = tarfile.TarInfo("model/config.json")
    member.type, member.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return member


def device_member() -> tarfile.TarInfo:
    member = tarfile.TarInfo("model/dev")
    member.type = tarfile.CHRTYPE
    return member


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (tarfile.TarInfo("../escaped.txt"), "would land outside the folder"),
        (tarfile.TarInfo("model/../../escaped.txt"), "would land outside the folder"),
        (tarfile.TarInfo("/tmp/escaped.txt"), "has an absolute path"),
        (symlink_member(), "is a link"),
        (device_member(), "is not a file or a folder"),
    ],
    ids=["dot-dot", "nested dot-dot", "absolute", "symlink", "device"],
)
def test_an_archive_reaching_outside_is_refused_before_unpacking(tmp_path, member, message):
    archive = evil_tar(tmp_path / "evil.tar.gz", member)
    data = tmp_path / "deep" / "data"
    with pytest.raises(ModelImportError) as refused:
        import_model(archive, data / "models")
    text = str(refused.value)
    assert text.startswith(f"refusing {archive}: its member ") and message in text
    assert "unpack it yourself" in text and "\n" not in text
    assert not (tmp_path / "deep" / "escaped.txt").exists()
    assert not (tmp_path / "deep" / "data" / "escaped.txt").exists()
    assert_no_scratch_left(data)


def test_a_zip_reaching_outside_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("model/config.json", "{}")
        zipped.writestr("../../escaped.txt", "x")
    with pytest.raises(ModelImportError, match="would land outside the folder"):
        import_model(archive, tmp_path / "data" / "models")
    assert not (tmp_path / "escaped.txt").exists()


@pytest.mark.parametrize("name", ["model.tar.gz", "model.zip", "model.tar"])
def test_a_damaged_archive_is_refused(tmp_path, name):
    archive = tmp_path / name
    archive.write_bytes(os.urandom(2048))
    with pytest.raises(ModelImportError, match=r"is not a readable archive .* copy it again") as e:
        import_model(archive, tmp_path / "data" / "models")
    assert "\n" not in str(e.value)
    assert_no_scratch_left(tmp_path / "data")


def test_a_truncated_archive_is_refused(tiny, tmp_path):
    archive = pack_tar(tiny, tmp_path / "model.tar.gz")
    truncate(archive)
    with pytest.raises(ModelImportError, match="is not a readable archive"):
        import_model(archive, tmp_path / "data" / "models")


def test_an_archive_of_two_models_is_refused(tiny, tmp_path):
    archive = tmp_path / "two.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(tiny, arcname="a")
        tar.add(tiny, arcname="b")
    with pytest.raises(ModelImportError, match=r"holds several models \(a, b\)"):
        import_model(archive, tmp_path / "data" / "models")


def test_cli_refusals_are_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    for path, message in [
        (tmp_path / "nowhere", "does not exist"),
        (tmp_path / "notes.txt", "is neither a directory nor an archive"),
    ]:
        code, _out, err = run_cli(
            monkeypatch, capsys, tmp_path / "data", "models", "import", str(path)
        )
        assert code == 1
        [line] = err.strip().splitlines()
        assert line.startswith("homesec: ") and message in line


# --- check --------------------------------------------------------------------------------------


def write_frames(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    for index in range(count):
        image = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
        Image.fromarray(image).save(folder / f"frame{index}.jpg")


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bf16")
def test_check_prints_each_image_the_verdict_and_the_speed(tiny, converted, tmp_path):
    data = with_conversion(tmp_path / "data", converted)
    write_frames(tmp_path / "mine", 4)
    settings = settings_in(data, DETECTOR_MODEL=str(tiny), DETECTION_CONFIDENCE_THRESHOLD="0.3")
    code, said = run(settings, "check", "--images", str(tmp_path / "mine"), "--limit", "3")
    assert code == 0
    assert said[0].startswith("loading the model")
    assert said[1].startswith("the OpenVINO conversion was there already")
    assert said[2] == (
        f"comparing bf16 with f32 on 3 images from {tmp_path / 'mine'} (threshold 0.3):"
    )
    progress = [line for line in said if line.startswith("  [")]
    assert [line[:8] for line in progress] == ["  [1/3] ", "  [2/3] ", "  [3/3] "]
    assert all(": agrees (" in line for line in progress)
    assert any(line.startswith("f32 ") and " ms/image, bf16 " in line for line in said)
    assert "checked: bf16 agrees with f32 on 3 images" in said
    assert said[-1].startswith("saved: with DETECTOR_PRECISION=auto, `homesec up` computes in bf16")


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bf16")
def test_check_reads_the_camera_folders_by_default_and_needs_images(
    tiny, converted, tmp_path, monkeypatch, capsys
):
    data = with_conversion(tmp_path / "data", converted)
    code, out, err = run_cli(monkeypatch, capsys, data, "models", "check", DETECTOR_MODEL=str(tiny))
    assert code == 1
    assert err.strip() == (
        f"homesec: no JPEG or PNG images in the camera folders under {data / 'cameras'}: "
        "point --images at a folder of camera frames"
    )
    write_frames(data / "cameras" / "porch", 2)
    # At the default threshold (0.5) the tiny model finds nothing: no verdict.
    code, out, err = run_cli(monkeypatch, capsys, data, "models", "check", DETECTOR_MODEL=str(tiny))
    assert code == 0, err
    assert "  [1/2] porch/frame1.jpg: agrees (0 found by f32, 0 by bf16)" in out
    assert out.endswith(
        "unchecked: f32 found nothing at the threshold on 2 images\n"
        "nothing saved: `homesec up` stays on f32 and checks again at a later start\n"
    )
    code, out, err = run_cli(
        monkeypatch, capsys, data, "models", "check", DETECTOR_MODEL=str(tiny),
        DETECTOR_PRECISION="f32", DETECTION_CONFIDENCE_THRESHOLD="0.3",
    )  # fmt: skip
    assert code == 0, err
    assert "checked: bf16 agrees with f32 on 2 images" in out
    assert "saved; DETECTOR_PRECISION=f32 is set, so `homesec up` computes in f32" in out


def test_check_shows_a_few_problems_per_image(tiny, converted, tmp_path, monkeypatch):
    from homesec.engines.detector import precision_guard
    from homesec.policy.detection_agreement import ImageAgreement, decide

    def disagreeing(reference, candidate, paths, *, threshold, progress, name_of, **_):
        image = ImageAgreement(
            "cam/a.jpg", 5, 5, 0, tuple(f"missing dog 0.{n}0" for n in range(5, 10))
        )
        progress(1, 1, image)
        return precision_guard.CheckResult(
            verdict=decide([image], threshold=threshold, now=NOW),
            images=[image], reference_ms=[500.0], candidate_ms=[200.0],
        )  # fmt: skip

    monkeypatch.setattr(precision_guard, "run_check", disagreeing)
    monkeypatch.setattr(models, "_load_f32", lambda settings, ref, say: _Loaded(tmp_path))
    monkeypatch.setattr(
        "homesec.engines.detector.rtdetr_openvino.OpenVinoRtDetrDetector", lambda *a, **k: None
    )
    monkeypatch.setattr("homesec.engines.detector.rtdetr_openvino.cpu_has_bf16", lambda: True)
    write_frames(tmp_path / "mine", 1)
    settings = settings_in(tmp_path / "data", DETECTOR_MODEL=str(tiny))
    code, said = run(settings, "check", "--images", str(tmp_path / "mine"))
    assert code == 0
    assert (
        "  [1/1] cam/a.jpg: DISAGREES: missing dog 0.50; missing dog 0.60; missing dog 0.70; "
        "2 more (5 found by f32, 5 by bf16)"
    ) in said
    assert said[-2].startswith(
        "f32: bf16 disagreed on 1 of 1 image (missing dog 0.50 in cam/a.jpg;"
    )
    assert "`homesec up` computes in f32" in said[-1]


class _Loaded:
    def __init__(self, root: Path) -> None:
        self.cache_entry = root / "entry"
        self.cache_entry.mkdir()

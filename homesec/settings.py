"""homesec's settings: one frozen structure, read once at the entry point and passed down.

Sources, later ones winning: the defaults below, an optional TOML file (``HOMESEC_CONFIG``, else
``<data dir>/homesec.toml`` when it exists), then the environment. Names are the environment
variables of the reference implementation (``DATABASE_URL``, ``RETENTION_DAYS`` ...) so its users
can move over; in TOML the same names are accepted in lower case.

A bad value raises :class:`SettingsError` with one line naming the variable and what it accepts;
the CLI prints that line and exits, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
import platformdirs


class SettingsError(ValueError):
    """A setting has a value homesec cannot use. The message names the variable."""


DETECTOR_DEVICES = ("auto", "cpu", "cuda")
DETECTOR_ENGINES = ("auto", "openvino", "torch")
DETECTOR_PRECISIONS = ("auto", "f32", "bf16")
LLM_ENGINES = ("auto", "vllm", "openai", "rules")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class RiskBands(msgspec.Struct, frozen=True):
    """Lowest score of each band above ``low``: low 0-29, medium 30-59, high 60-84, critical 85+."""

    medium: int = 30
    high: int = 60
    critical: int = 85


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # --- where things are -----------------------------------------------------------------
    data_dir: Path
    # None means "start an embedded server under data_dir".
    database_url: str | None = None
    redis_url: str | None = None
    ray_address: str | None = None
    # Ray's GCS port for the head `homesec up` starts; pinned off 6379, where Redis usually is.
    ray_port: int = 6390
    ray_dashboard_port: int = 8265
    foscam_base_path: Path
    host: str = "127.0.0.1"
    port: int = 8000
    allow_insecure_bind: bool = False
    # Host names (or addresses) besides loopback, this machine's and HOMESEC_HOST's that the API
    # answers to, such as a reverse proxy's name; any other Host header is refused (DNS
    # rebinding). Lower-case, without port.
    allowed_hosts: tuple[str, ...] = ()

    # --- retention ------------------------------------------------------------------------
    retention_days: int = 30
    log_retention_days: int = 7
    cleanup_time: dt.time = dt.time(3, 0)
    delete_images: bool = False
    min_free_disk_percent: float = 5.0
    # A file in a camera's folder that no `uploads` row explains and that the pipeline never
    # takes (hidden, a temporary name, not an image) goes at the cleanup once it is this old.
    stray_file_grace_hours: float = 24.0
    # Rejected uploads are moved out of the camera's folder to <FOSCAM_BASE_PATH>/.rejected/
    # <camera>/ for the owner to look at; the cleanup deletes them once they are this old.
    rejected_upload_retention_days: float = 7.0

    # --- ingest -----------------------------------------------------------------------------
    dedupe_ttl_seconds: int = 300
    file_watcher_polling: bool = False
    upload_settle_seconds: float = 2.0
    min_image_bytes: int = 1024
    max_image_pixels: int = 50_000_000
    queue_max_depth: int = 10_000
    max_retries: int = 3
    # A failed job's retries wait 1x, 2x, 4x this (from half of it up to all of it): with
    # MAX_RETRIES=3 a job that fails on its own reaches its dead-letter queue after 70-140 s.
    retry_base_seconds: float = 20.0
    camera_offline_seconds: int = 600

    # --- detection --------------------------------------------------------------------------
    detector_model: str = "PekingU/rtdetr_v2_r50vd"
    detector_device: str = "auto"
    # auto: PyTorch on a CUDA device, else OpenVINO (CPU) when it is installed, else PyTorch.
    detector_engine: str = "auto"
    # OpenVINO's compute precision. auto is f32 for now: bf16 only when asked (unchecked).
    detector_precision: str = "auto"
    detector_batch_size: int = 8
    detector_batch_wait_ms: int = 20
    detector_gpu_fraction: float = 0.25
    detector_replicas: int = 1
    detection_confidence_threshold: float = 0.5
    # COCO classes a house cares about: people, vehicles, animals, bags and the weapons. Others
    # (a dining table, a potted plant) are dropped in the detector; () keeps every class.
    detection_object_types: tuple[str, ...] = (
        "person", "bicycle", "car", "motorcycle", "bus", "truck",
        "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe",
        "backpack", "handbag", "suitcase", "knife", "scissors", "baseball bat",
    )  # fmt: skip

    # --- batching ---------------------------------------------------------------------------
    batch_window_seconds: float = 90.0
    batch_idle_timeout_seconds: float = 30.0
    batch_max_detections: int = 500
    fast_path_confidence_threshold: float = 0.9
    fast_path_object_types: tuple[str, ...] = ("person",)
    fast_path_cooldown_seconds: float = 60.0
    # Things that stay put (a parked car): a box of the same kind over nearly the same pixels
    # as in one of the camera's last frames, its spot seen for the settle time already, is
    # stationary: stored, opens no visit. A spot unseen this long is forgotten; 0 turns it off.
    stationary_forget_minutes: float = 10.0
    stationary_min_iou: float = 0.7
    stationary_settle_seconds: float = 60.0

    # --- analysis ---------------------------------------------------------------------------
    llm_engine: str = "auto"
    llm_url: str | None = None
    llm_model: str = "nvidia/NVIDIA-Nemotron-Nano-9B-v2"
    llm_api_key: str | None = None
    llm_timeout_seconds: float = 60.0
    llm_gpu_fraction: float = 0.5
    risk_bands: RiskBands = RiskBands()
    timezone: str | None = None
    # The cameras' habits (baselines): each day's weight halves after this many days.
    baseline_half_life_days: float = 30.0
    # Visits on different cameras this close in time are one incident (policy/incidents.py);
    # 0 turns incidents off.
    incident_window_seconds: int = 120

    # --- operations -------------------------------------------------------------------------
    gpu_poll_interval_seconds: float = 5.0
    log_level: str = "INFO"
    api_key_enabled: bool = False
    api_keys: tuple[str, ...] = ()

    # --- the dashboard and sessions -----------------------------------------------------------
    # How long a dashboard login (its session cookie) lasts before the key is asked again.
    session_hours: int = 168

    # --- the built-in FTP(S) server cameras upload to -----------------------------------------
    ftp_enabled: bool = True
    # Cameras are other machines: the server listens on every interface by default.
    ftp_host: str = "0.0.0.0"
    ftp_port: int = 2121
    ftp_passive_ports: tuple[int, int] = (60000, 60099)  # first and last, inclusive
    ftp_masquerade_address: str | None = None
    ftp_tls: bool = False
    ftp_certfile: Path | None = None  # None with FTP_TLS: a self-signed one under the data dir
    ftp_keyfile: Path | None = None
    max_upload_bytes: int = 20 * 1024 * 1024
    ftp_max_connections_per_account: int = 4
    ftp_ban_attempts: int = 5
    ftp_ban_window_seconds: float = 600.0
    ftp_ban_seconds: float = 900.0
    # Connections that have not logged in: their own small budget, and a deadline to log in.
    ftp_login_timeout_seconds: float = 10.0
    ftp_max_unauthenticated: int = 32
    ftp_max_unauthenticated_per_address: int = 4
    # What one camera's folder may hold before uploads are refused (552); 0: no quota.
    ftp_camera_quota_bytes: int = 10 * 1024**3

    # --- alerts ---------------------------------------------------------------------------
    # The channels that reach the owner, and quiet hours (docs/alerts.md).
    notify_urls: tuple[str, ...] = ()  # Apprise URLs
    mqtt_url: str | None = None
    # The CA bundle that signs an mqtts:// broker's certificate (a home broker's own CA or its
    # self-signed certificate); None: the system's CAs.
    mqtt_ca_file: Path | None = None
    mqtt_topic_prefix: str = "homesec"
    # None: on when MQTT_URL is set (see `homeassistant_discovery_on`).
    homeassistant_discovery: bool | None = None
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str | None = None
    notify_quiet_hours: tuple[dt.time, dt.time] | None = None  # start, end (local)
    public_url: str | None = None  # the dashboard's address in alert links
    notify_timeout_seconds: float = 15.0
    notify_max_attempts: int = 10
    # A visit's update (the batch's verdict after a fast-path alert) buzzes the phone again only
    # when its band differs or its score moved by more than this many points.
    notify_update_min_score_change: int = 15
    # The house's mode on a schedule (policy/house_mode.py): off by default; when on, night
    # during the night hours (local start, end) and home after them.
    house_mode_schedule: bool = False
    house_mode_night_hours: tuple[dt.time, dt.time] = (dt.time(23, 0), dt.time(6, 0))
    # The morning digest (policy/digest.py): off while None; else sent at this local time on the
    # Apprise channels, about the night since DIGEST_NIGHT_STARTS the evening before.
    digest_at: dt.time | None = None
    digest_night_starts: dt.time = dt.time(18, 0)

    @property
    def homeassistant_discovery_on(self) -> bool:
        if self.homeassistant_discovery is None:
            return self.mqtt_url is not None
        return self.homeassistant_discovery and self.mqtt_url is not None

    @property
    def thumbnail_dir(self) -> Path:
        return self.data_dir / "thumbnails"

    def masked(self) -> dict[str, Any]:
        """The effective settings by variable name, as plain data, with every secret masked."""
        out: dict[str, Any] = {}
        for variable, (field, _) in _PARSERS.items():
            value = getattr(self, field)
            if field in _SECRET_FIELDS:
                value = _mask_secret(value)
            elif field in _URL_FIELDS and value is not None:
                value = mask_url(value)
            out[variable] = msgspec.to_builtins(value, enc_hook=str)
        return out


# Apprise and webhook URLs carry tokens in their paths, not only as passwords: masked whole.
_SECRET_FIELDS = {"api_keys", "llm_api_key", "notify_urls", "webhook_urls", "webhook_secret"}
_URL_FIELDS = {"database_url", "redis_url", "llm_url", "ray_address", "mqtt_url"}


def _mask_secret(value: Any) -> Any:
    if value is None or value == ():
        return value
    if isinstance(value, tuple):
        return tuple("****" for _ in value)
    return "****"


def local_zone(settings: Settings) -> dt.tzinfo | None:
    """The house's time zone: ``HOMESEC_TIMEZONE``; None means this machine's zone (what
    ``astimezone(None)`` uses)."""
    return zoneinfo.ZoneInfo(settings.timezone) if settings.timezone else None


def mask_url(url: str) -> str:
    """``scheme://user:secret@host/db`` -> ``scheme://user:****@host/db``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:****@{netloc}"))


def _mask_url_leniently(text: str) -> str:
    """Mask a password even in a URL too malformed for :func:`mask_url`."""
    try:
        return mask_url(text)
    except ValueError:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1****@", text)


# --- parsing --------------------------------------------------------------------------------


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("true or false")


def _parse_int(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(_range_text("an integer", minimum, maximum)) from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ValueError(_range_text("an integer", minimum, maximum))
        return value

    return parse


def _parse_float(
    minimum: float | None = None, maximum: float | None = None, *, exclusive_min: bool = False
) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        text = _range_text("a number", minimum, maximum, exclusive_min=exclusive_min)
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(text) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(text)
        too_low = minimum is not None and (value <= minimum if exclusive_min else value < minimum)
        if too_low or (maximum is not None and value > maximum):
            raise ValueError(text)
        return value

    return parse


def _range_text(
    kind: str, minimum: float | None, maximum: float | None, *, exclusive_min: bool = False
) -> str:
    if minimum is not None and maximum is not None:
        low = f"above {minimum}" if exclusive_min else f"from {minimum}"
        return f"{kind} {low} to {maximum}"
    if minimum is not None:
        return f"{kind} {'above' if exclusive_min else 'of at least'} {minimum}"
    return kind


def _parse_choice(choices: tuple[str, ...], *, upper: bool = False) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().upper() if upper else raw.strip().lower()
        if value not in choices:
            raise ValueError("one of " + ", ".join(choices))
        return value

    return parse


def _parse_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


_HOST_LABELS = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?")


def _parse_host_names(raw: str) -> tuple[str, ...]:
    names = []
    for item in _parse_list(raw.lower()):
        name = item[1:-1] if item.startswith("[") and item.endswith("]") else item
        try:
            names.append(str(ipaddress.ip_address(name)))
            continue
        except ValueError:
            pass
        if _HOST_LABELS.fullmatch(name) is None:
            raise ValueError(
                "comma-separated host names or addresses, without scheme or port, such as "
                "cams.example.net,192.168.1.20"
            )
        names.append(name.rstrip("."))
    return tuple(names)


def _parse_object_types(raw: str) -> tuple[str, ...]:
    items = tuple(item.lower() for item in _parse_list(raw))
    if not items:
        raise ValueError("a comma-separated list of object classes, such as person,car")
    return items


def _parse_detection_object_types(raw: str) -> tuple[str, ...]:
    if raw.strip().lower() == "all":
        return ()
    try:
        return _parse_object_types(raw)
    except ValueError:
        raise ValueError(
            "a comma-separated list of object classes, such as person,car, or all"
        ) from None


def _parse_time(raw: str) -> dt.time:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", raw)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError("a local time HH:MM, such as 03:00")
    return dt.time(int(match[1]), int(match[2]))


def _parse_optional_time(raw: str) -> dt.time | None:
    return _parse_time(raw) if raw.strip() else None


def _parse_port(raw: str) -> int:
    return _parse_int(1, 65535)(raw)


# Ray starts its workers on ports it picks from this range (its defaults); a port of ours inside
# it may be taken by a worker first, and a Ray head asked to listen there exits at start.
RAY_WORKER_PORTS = range(10002, 20000)


def _parse_port_outside_ray_workers(raw: str) -> int:
    port = _parse_port(raw)
    if port in RAY_WORKER_PORTS:
        raise ValueError(
            f"a port outside {RAY_WORKER_PORTS.start}-{RAY_WORKER_PORTS.stop - 1}, which Ray "
            "keeps for its workers (the default 6390 is free of it)"
        )
    return port


def _parse_port_range(raw: str) -> tuple[int, int]:
    text = "a port range FIRST-LAST such as 60000-60099, outside 10002-19999 (Ray's workers)"
    # "-" as people write it; "," as `homesec config` and a TOML list print it.
    match = re.fullmatch(r"\s*(\d+)\s*[-,]\s*(\d+)\s*", raw)
    if match is None:
        raise ValueError(text)
    first, last = int(match[1]), int(match[2])
    overlaps_ray = first < RAY_WORKER_PORTS.stop and last >= RAY_WORKER_PORTS.start
    if not 1 <= first <= last <= 65535 or overlaps_ray:
        raise ValueError(text)
    return first, last


def _parse_optional_path(raw: str) -> Path | None:
    return Path(raw.strip()).expanduser() if raw.strip() else None


def _parse_path(raw: str) -> Path:
    if not raw.strip():
        raise ValueError("a filesystem path")
    return Path(raw.strip()).expanduser()


def _parse_optional_str(raw: str) -> str | None:
    return raw.strip() or None


def _parse_nonempty(raw: str) -> str:
    if not raw.strip():
        raise ValueError("a non-empty value")
    return raw.strip()


def normalize_database_url(raw: str) -> str:
    """Accept ``postgresql://`` and ``postgresql+asyncpg://`` (and ``postgres://``) alike."""
    url = raw.strip()
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise ValueError("a PostgreSQL URL: postgresql://user:password@host:5432/database")
    if not rest.split("/", 1)[0]:
        raise ValueError("a PostgreSQL URL with a host: postgresql://user@host:5432/database")
    return f"postgresql+asyncpg://{rest}"


def _parse_redis_url(raw: str) -> str:
    url = raw.strip()
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("a Redis URL: redis://host:6379/0")
    return url


def _parse_http_url(raw: str) -> str | None:
    url = raw.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            "an http(s) URL of an OpenAI-compatible server, such as http://127.0.0.1:8080/v1"
        )
    return url.rstrip("/")


def _parse_timezone(raw: str) -> str | None:
    name = raw.strip()
    if not name:
        return None
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("an IANA time zone name, such as Europe/Berlin") from None
    return name


def _parse_risk_bands(raw: str) -> RiskBands:
    text = "three increasing scores 1-100 where medium, high and critical start, such as 30,60,85"
    try:
        medium, high, critical = (int(part) for part in raw.split(","))
    except ValueError:
        raise ValueError(text) from None
    if not 0 < medium < high < critical <= 100:
        raise ValueError(text)
    return RiskBands(medium, high, critical)


def _parse_apprise_urls(raw: str) -> tuple[str, ...]:
    urls = _parse_list(raw)
    for url in urls:
        scheme, sep, rest = url.partition("://")
        if not sep or not scheme or not rest:
            raise ValueError(
                "comma-separated Apprise URLs such as ntfy://ntfy.sh/my-topic,json://host:8080"
            )
    return urls


def _parse_mqtt_url(raw: str) -> str | None:
    url = raw.strip()
    if not url:
        return None
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname or port == -1:
        raise ValueError("an MQTT URL: mqtt://user:password@host:1883 (mqtts:// for TLS)")
    return url


def _parse_ca_file(raw: str) -> Path | None:
    """Read now, so a wrong path stops homesec at start rather than leaving MQTT silently
    disconnected later."""
    path = _parse_optional_path(raw)
    if path is None:
        return None
    try:
        text = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ValueError(f"a readable PEM file of CA certificates ({reason})") from None
    if b"-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError("a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)")
    return path


def _parse_topic_prefix(raw: str) -> str:
    prefix = raw.strip().strip("/")
    if not prefix or any(char in prefix for char in "+#\0") or " " in prefix:
        raise ValueError("an MQTT topic prefix without spaces, + or #, such as homesec")
    return prefix


def _parse_optional_bool(raw: str) -> bool | None:
    return _parse_bool(raw) if raw.strip() else None


def _parse_webhook_urls(raw: str) -> tuple[str, ...]:
    urls = _parse_list(raw)
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("comma-separated http(s) URLs, such as https://example.org/hook")
    return urls


def _parse_quiet_hours(raw: str) -> tuple[dt.time, dt.time] | None:
    if not raw.strip():
        return None
    text = "a local time range HH:MM-HH:MM such as 23:00-07:00, or empty for none"
    first, sep, last = raw.partition("-")
    if not sep:
        raise ValueError(text)
    try:
        start, end = _parse_time(first), _parse_time(last)
    except ValueError:
        raise ValueError(text) from None
    if start == end:
        raise ValueError(text + " (start and end differ)")
    return start, end


def _parse_night_hours(raw: str) -> tuple[dt.time, dt.time]:
    hours = _parse_quiet_hours(raw)
    if hours is None:
        raise ValueError("a local time range HH:MM-HH:MM such as 23:00-06:00")
    return hours


def _parse_public_url(raw: str) -> str | None:
    url = raw.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("the dashboard's http(s) address, such as https://homesec.example.org")
    return url.rstrip("/")


# Every setting: environment variable -> (field, parser). The variable is the field's name in
# upper case unless noted; the table is the single source for `homesec config` and the README.
_PARSERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "HOMESEC_DATA_DIR": ("data_dir", _parse_path),
    "DATABASE_URL": ("database_url", normalize_database_url),
    "REDIS_URL": ("redis_url", _parse_redis_url),
    "RAY_ADDRESS": ("ray_address", _parse_optional_str),
    "HOMESEC_RAY_PORT": ("ray_port", _parse_port_outside_ray_workers),
    "HOMESEC_RAY_DASHBOARD_PORT": ("ray_dashboard_port", _parse_port_outside_ray_workers),
    "FOSCAM_BASE_PATH": ("foscam_base_path", _parse_path),
    "HOMESEC_HOST": ("host", _parse_nonempty),
    "HOMESEC_PORT": ("port", _parse_port),
    "HOMESEC_ALLOW_INSECURE_BIND": ("allow_insecure_bind", _parse_bool),
    "HOMESEC_ALLOWED_HOSTS": ("allowed_hosts", _parse_host_names),
    "RETENTION_DAYS": ("retention_days", _parse_int(1)),
    "LOG_RETENTION_DAYS": ("log_retention_days", _parse_int(1)),
    "CLEANUP_TIME": ("cleanup_time", _parse_time),
    "DELETE_IMAGES": ("delete_images", _parse_bool),
    "MIN_FREE_DISK_PERCENT": ("min_free_disk_percent", _parse_float(0, 100)),
    "STRAY_FILE_GRACE_HOURS": ("stray_file_grace_hours", _parse_float(0, exclusive_min=True)),
    "REJECTED_UPLOAD_RETENTION_DAYS": (
        "rejected_upload_retention_days",
        _parse_float(0, exclusive_min=True),
    ),
    "DEDUPE_TTL_SECONDS": ("dedupe_ttl_seconds", _parse_int(1)),
    "FILE_WATCHER_POLLING": ("file_watcher_polling", _parse_bool),
    "UPLOAD_SETTLE_SECONDS": ("upload_settle_seconds", _parse_float(0)),
    "MIN_IMAGE_BYTES": ("min_image_bytes", _parse_int(1)),
    "MAX_IMAGE_PIXELS": ("max_image_pixels", _parse_int(1)),
    "QUEUE_MAX_DEPTH": ("queue_max_depth", _parse_int(1)),
    "MAX_RETRIES": ("max_retries", _parse_int(0, 100)),
    "RETRY_BASE_SECONDS": ("retry_base_seconds", _parse_float(0.0, 3600.0, exclusive_min=True)),
    "CAMERA_OFFLINE_SECONDS": ("camera_offline_seconds", _parse_int(1)),
    "DETECTOR_MODEL": ("detector_model", _parse_nonempty),
    "DETECTOR_DEVICE": ("detector_device", _parse_choice(DETECTOR_DEVICES)),
    "DETECTOR_ENGINE": ("detector_engine", _parse_choice(DETECTOR_ENGINES)),
    "DETECTOR_PRECISION": ("detector_precision", _parse_choice(DETECTOR_PRECISIONS)),
    "DETECTOR_BATCH_SIZE": ("detector_batch_size", _parse_int(1, 256)),
    "DETECTOR_BATCH_WAIT_MS": ("detector_batch_wait_ms", _parse_int(0, 10_000)),
    "DETECTOR_GPU_FRACTION": ("detector_gpu_fraction", _parse_float(0, 1, exclusive_min=True)),
    "DETECTOR_REPLICAS": ("detector_replicas", _parse_int(1, 64)),
    "DETECTION_CONFIDENCE_THRESHOLD": ("detection_confidence_threshold", _parse_float(0, 1)),
    "DETECTION_OBJECT_TYPES": ("detection_object_types", _parse_detection_object_types),
    "BATCH_WINDOW_SECONDS": ("batch_window_seconds", _parse_float(0, exclusive_min=True)),
    "BATCH_IDLE_TIMEOUT_SECONDS": (
        "batch_idle_timeout_seconds",
        _parse_float(0, exclusive_min=True),
    ),
    "BATCH_MAX_DETECTIONS": ("batch_max_detections", _parse_int(1)),
    "FAST_PATH_CONFIDENCE_THRESHOLD": ("fast_path_confidence_threshold", _parse_float(0, 1)),
    "FAST_PATH_OBJECT_TYPES": ("fast_path_object_types", _parse_object_types),
    "FAST_PATH_COOLDOWN_SECONDS": ("fast_path_cooldown_seconds", _parse_float(0)),
    "STATIONARY_FORGET_MINUTES": ("stationary_forget_minutes", _parse_float(0, 24 * 60)),
    "STATIONARY_MIN_IOU": ("stationary_min_iou", _parse_float(0, 1, exclusive_min=True)),
    "STATIONARY_SETTLE_SECONDS": ("stationary_settle_seconds", _parse_float(0, 24 * 3600)),
    "LLM_ENGINE": ("llm_engine", _parse_choice(LLM_ENGINES)),
    "LLM_URL": ("llm_url", _parse_http_url),
    "LLM_MODEL": ("llm_model", _parse_nonempty),
    "LLM_API_KEY": ("llm_api_key", _parse_optional_str),
    "LLM_TIMEOUT_SECONDS": ("llm_timeout_seconds", _parse_float(0, exclusive_min=True)),
    "LLM_GPU_FRACTION": ("llm_gpu_fraction", _parse_float(0, 1, exclusive_min=True)),
    "RISK_BANDS": ("risk_bands", _parse_risk_bands),
    "HOMESEC_TIMEZONE": ("timezone", _parse_timezone),
    "BASELINE_HALF_LIFE_DAYS": ("baseline_half_life_days", _parse_float(1, 3650)),
    "INCIDENT_WINDOW_SECONDS": ("incident_window_seconds", _parse_int(0, 3600)),
    "GPU_POLL_INTERVAL_SECONDS": ("gpu_poll_interval_seconds", _parse_float(0, exclusive_min=True)),
    "LOG_LEVEL": ("log_level", _parse_choice(LOG_LEVELS, upper=True)),
    "API_KEY_ENABLED": ("api_key_enabled", _parse_bool),
    "API_KEYS": ("api_keys", _parse_list),
    "SESSION_HOURS": ("session_hours", _parse_int(1, 8760)),
    "FTP_ENABLED": ("ftp_enabled", _parse_bool),
    "FTP_HOST": ("ftp_host", _parse_nonempty),
    "FTP_PORT": ("ftp_port", _parse_port_outside_ray_workers),
    "FTP_PASSIVE_PORTS": ("ftp_passive_ports", _parse_port_range),
    "FTP_MASQUERADE_ADDRESS": ("ftp_masquerade_address", _parse_optional_str),
    "FTP_TLS": ("ftp_tls", _parse_bool),
    "FTP_CERTFILE": ("ftp_certfile", _parse_optional_path),
    "FTP_KEYFILE": ("ftp_keyfile", _parse_optional_path),
    "MAX_UPLOAD_BYTES": ("max_upload_bytes", _parse_int(1)),
    "FTP_MAX_CONNECTIONS_PER_ACCOUNT": ("ftp_max_connections_per_account", _parse_int(1, 1000)),
    "FTP_BAN_ATTEMPTS": ("ftp_ban_attempts", _parse_int(1, 1000)),
    "FTP_BAN_WINDOW_SECONDS": ("ftp_ban_window_seconds", _parse_float(0, exclusive_min=True)),
    "FTP_BAN_SECONDS": ("ftp_ban_seconds", _parse_float(0)),
    "FTP_LOGIN_TIMEOUT_SECONDS": (
        "ftp_login_timeout_seconds",
        _parse_float(0, 600, exclusive_min=True),
    ),
    "FTP_MAX_UNAUTHENTICATED": ("ftp_max_unauthenticated", _parse_int(1, 10_000)),
    "FTP_MAX_UNAUTHENTICATED_PER_ADDRESS": (
        "ftp_max_unauthenticated_per_address",
        _parse_int(1, 10_000),
    ),
    "FTP_CAMERA_QUOTA_BYTES": ("ftp_camera_quota_bytes", _parse_int(0)),
    "NOTIFY_URLS": ("notify_urls", _parse_apprise_urls),
    "MQTT_URL": ("mqtt_url", _parse_mqtt_url),
    "MQTT_CA_FILE": ("mqtt_ca_file", _parse_ca_file),
    "MQTT_TOPIC_PREFIX": ("mqtt_topic_prefix", _parse_topic_prefix),
    "HOMEASSISTANT_DISCOVERY": ("homeassistant_discovery", _parse_optional_bool),
    "WEBHOOK_URLS": ("webhook_urls", _parse_webhook_urls),
    "WEBHOOK_SECRET": ("webhook_secret", _parse_optional_str),
    "NOTIFY_QUIET_HOURS": ("notify_quiet_hours", _parse_quiet_hours),
    "HOMESEC_PUBLIC_URL": ("public_url", _parse_public_url),
    "NOTIFY_TIMEOUT_SECONDS": ("notify_timeout_seconds", _parse_float(0, 300, exclusive_min=True)),
    "NOTIFY_MAX_ATTEMPTS": ("notify_max_attempts", _parse_int(1, 1000)),
    "NOTIFY_UPDATE_MIN_SCORE_CHANGE": ("notify_update_min_score_change", _parse_int(0, 100)),
    "HOUSE_MODE_SCHEDULE": ("house_mode_schedule", _parse_bool),
    "HOUSE_MODE_NIGHT_HOURS": ("house_mode_night_hours", _parse_night_hours),
    "DIGEST_AT": ("digest_at", _parse_optional_time),
    "DIGEST_NIGHT_STARTS": ("digest_night_starts", _parse_time),
}

ENV_VARS: tuple[str, ...] = tuple(_PARSERS)


def default_data_dir() -> Path:
    """The user's data dir; as root, /var/lib/homesec, where the unprivileged user that runs the
    embedded PostgreSQL can reach it (it cannot enter /root)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/homesec")
    return Path(platformdirs.user_data_dir("homesec", appauthor=False))


def _toml_values(path: Path) -> dict[str, str]:
    """Read a TOML settings file into ``VARIABLE -> text``, so one parser serves both sources."""
    try:
        document = tomllib.loads(path.read_text())
    except OSError as exc:
        raise SettingsError(f"HOMESEC_CONFIG: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"HOMESEC_CONFIG: {path} is not valid TOML: {exc}") from None
    values: dict[str, str] = {}
    for key, value in document.items():
        name = key.upper()
        if name not in _PARSERS:
            raise SettingsError(f"HOMESEC_CONFIG: {path} has an unknown setting {key!r}")
        if isinstance(value, bool):
            values[name] = "true" if value else "false"
        elif isinstance(value, list):
            values[name] = ",".join(str(item) for item in value)
        else:
            values[name] = str(value)
    return values


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from defaults, the optional TOML file and ``environ``."""
    env = dict(os.environ if environ is None else environ)
    raw: dict[str, str] = {}

    data_dir = (
        _parse_or_raise("HOMESEC_DATA_DIR", env["HOMESEC_DATA_DIR"])
        if env.get("HOMESEC_DATA_DIR", "").strip()
        else default_data_dir()
    )
    config_file = env.get("HOMESEC_CONFIG", "").strip()
    if config_file:
        raw.update(_toml_values(Path(config_file).expanduser()))
    elif (data_dir / "homesec.toml").is_file():
        raw.update(_toml_values(data_dir / "homesec.toml"))
    raw.update({name: env[name] for name in _PARSERS if name in env})

    values: dict[str, Any] = {}
    for name, text in raw.items():
        field, _ = _PARSERS[name]
        values[field] = _parse_or_raise(name, text)
    values.setdefault("data_dir", data_dir)
    values.setdefault("foscam_base_path", values["data_dir"] / "cameras")
    # Empty URL variables mean "not configured" (embedded servers), as if unset.
    for field in ("database_url", "redis_url", "ray_address", "llm_url", "mqtt_url"):
        if values.get(field) == "":
            values[field] = None
    if values.get("ftp_keyfile") is not None and values.get("ftp_certfile") is None:
        raise SettingsError(
            f"FTP_KEYFILE={str(values['ftp_keyfile'])!r} is not valid: expected FTP_CERTFILE "
            "with it (or FTP_CERTFILE alone for a file holding both), or neither for a "
            "self-signed certificate"
        )
    ca_file, mqtt_url = values.get("mqtt_ca_file"), values.get("mqtt_url")
    if ca_file is not None and mqtt_url is not None and not mqtt_url.startswith("mqtts://"):
        raise SettingsError(
            f"MQTT_CA_FILE={str(ca_file)!r} is not valid: expected an mqtts:// MQTT_URL with it "
            "(a CA file is for TLS; plain mqtt:// would ignore it)"
        )
    return Settings(**values)


def _parse_or_raise(name: str, text: str) -> Any:
    field, parser = _PARSERS[name]
    if field in ("database_url", "redis_url") and not text.strip():
        return None
    try:
        return parser(text)
    except ValueError as exc:
        if field in _SECRET_FIELDS:
            shown = "****"
        elif field in _URL_FIELDS:
            shown = repr(_mask_url_leniently(text))
        else:
            shown = repr(text)
        raise SettingsError(f"{name}={shown} is not valid: expected {exc}") from None

"""Settings: every variable is parsed, every bad value is refused with its name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from homesec.settings import ENV_VARS, RiskBands, SettingsError, load_settings, mask_url


def load(**env: str):
    return load_settings({"HOMESEC_DATA_DIR": "/tmp/homesec-test-data", **env})


def test_defaults_follow_the_design():
    settings = load()
    assert settings.data_dir == Path("/tmp/homesec-test-data")
    assert settings.database_url is None and settings.redis_url is None
    assert settings.foscam_base_path == Path("/tmp/homesec-test-data/cameras")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.retention_days == 30
    assert settings.log_retention_days == 7
    assert settings.dedupe_ttl_seconds == 300
    assert settings.batch_window_seconds == 90
    assert settings.batch_idle_timeout_seconds == 30
    assert settings.detection_confidence_threshold == 0.5
    assert settings.fast_path_confidence_threshold == 0.9
    assert settings.fast_path_object_types == ("person",)
    assert settings.gpu_poll_interval_seconds == 5
    assert settings.api_key_enabled is False and settings.api_keys == ()
    assert settings.cleanup_time == dt.time(3, 0)
    assert settings.delete_images is False and settings.file_watcher_polling is False
    assert settings.detector_device == "auto" and settings.llm_engine == "auto"
    assert settings.detector_engine == "auto" and settings.detector_precision == "auto"
    assert settings.detector_gpu_fraction == 0.25
    assert settings.risk_bands == RiskBands(30, 60, 85)
    assert settings.ray_port != 6379
    # The morning digest is off until DIGEST_AT is set; an empty one is off too.
    assert settings.digest_at is None and settings.digest_night_starts == dt.time(18, 0)
    assert load(DIGEST_AT="").digest_at is None


# Every variable with one good value and the field value it must produce.
NIGHT_START, NIGHT_END = dt.time(22, 30), dt.time(7, 0)
GOOD_VALUES = {
    "HOMESEC_DATA_DIR": ("/srv/homesec", "data_dir", Path("/srv/homesec")),
    "DATABASE_URL": (
        "postgresql://u:p@db:5432/h",
        "database_url",
        "postgresql+asyncpg://u:p@db:5432/h",
    ),
    "REDIS_URL": ("redis://cache:6379/2", "redis_url", "redis://cache:6379/2"),
    "RAY_ADDRESS": ("ray://head:10001", "ray_address", "ray://head:10001"),
    "HOMESEC_RAY_PORT": ("6400", "ray_port", 6400),
    "HOMESEC_RAY_DASHBOARD_PORT": ("8300", "ray_dashboard_port", 8300),
    "FOSCAM_BASE_PATH": ("/export/foscam", "foscam_base_path", Path("/export/foscam")),
    "HOMESEC_HOST": ("0.0.0.0", "host", "0.0.0.0"),
    "HOMESEC_PORT": ("9000", "port", 9000),
    "HOMESEC_ALLOW_INSECURE_BIND": ("yes", "allow_insecure_bind", True),
    "HOMESEC_ALLOWED_HOSTS": (
        " Cams.Example.NET, 192.168.1.20 ,[fd00::2]",
        "allowed_hosts",
        ("cams.example.net", "192.168.1.20", "fd00::2"),
    ),
    "RETENTION_DAYS": ("14", "retention_days", 14),
    "LOG_RETENTION_DAYS": ("3", "log_retention_days", 3),
    "CLEANUP_TIME": ("23:45", "cleanup_time", dt.time(23, 45)),
    "DELETE_IMAGES": ("true", "delete_images", True),
    "MIN_FREE_DISK_PERCENT": ("10", "min_free_disk_percent", 10.0),
    "STRAY_FILE_GRACE_HOURS": ("6", "stray_file_grace_hours", 6.0),
    "REJECTED_UPLOAD_RETENTION_DAYS": ("2.5", "rejected_upload_retention_days", 2.5),
    "DEDUPE_TTL_SECONDS": ("60", "dedupe_ttl_seconds", 60),
    "FILE_WATCHER_POLLING": ("1", "file_watcher_polling", True),
    "UPLOAD_SETTLE_SECONDS": ("0.5", "upload_settle_seconds", 0.5),
    "MIN_IMAGE_BYTES": ("100", "min_image_bytes", 100),
    "MAX_IMAGE_PIXELS": ("1000000", "max_image_pixels", 1_000_000),
    "QUEUE_MAX_DEPTH": ("50", "queue_max_depth", 50),
    "MAX_RETRIES": ("5", "max_retries", 5),
    "RETRY_BASE_SECONDS": ("2.5", "retry_base_seconds", 2.5),
    "CAMERA_OFFLINE_SECONDS": ("120", "camera_offline_seconds", 120),
    "DETECTOR_MODEL": ("/models/rtdetr", "detector_model", "/models/rtdetr"),
    "DETECTOR_DEVICE": ("CUDA", "detector_device", "cuda"),
    "DETECTOR_ENGINE": (" OpenVINO ", "detector_engine", "openvino"),
    "DETECTOR_PRECISION": ("BF16", "detector_precision", "bf16"),
    "DETECTOR_BATCH_SIZE": ("16", "detector_batch_size", 16),
    "DETECTOR_BATCH_WAIT_MS": ("5", "detector_batch_wait_ms", 5),
    "DETECTOR_GPU_FRACTION": ("0.5", "detector_gpu_fraction", 0.5),
    "DETECTOR_REPLICAS": ("2", "detector_replicas", 2),
    "DETECTION_CONFIDENCE_THRESHOLD": ("0.3", "detection_confidence_threshold", 0.3),
    "DETECTION_OBJECT_TYPES": ("Person, dog", "detection_object_types", ("person", "dog")),
    "BATCH_WINDOW_SECONDS": ("60", "batch_window_seconds", 60.0),
    "BATCH_IDLE_TIMEOUT_SECONDS": ("10", "batch_idle_timeout_seconds", 10.0),
    "BATCH_MAX_DETECTIONS": ("100", "batch_max_detections", 100),
    "FAST_PATH_CONFIDENCE_THRESHOLD": ("0.8", "fast_path_confidence_threshold", 0.8),
    "FAST_PATH_OBJECT_TYPES": (" Person, car ", "fast_path_object_types", ("person", "car")),
    "FAST_PATH_COOLDOWN_SECONDS": ("30", "fast_path_cooldown_seconds", 30.0),
    "STATIONARY_FORGET_MINUTES": ("0", "stationary_forget_minutes", 0.0),
    "STATIONARY_MIN_IOU": ("0.5", "stationary_min_iou", 0.5),
    "STATIONARY_SETTLE_SECONDS": ("300", "stationary_settle_seconds", 300.0),
    "LLM_ENGINE": ("openai", "llm_engine", "openai"),
    "LLM_URL": ("http://127.0.0.1:8080/v1/", "llm_url", "http://127.0.0.1:8080/v1"),
    "LLM_MODEL": ("nemotron-mini", "llm_model", "nemotron-mini"),
    "LLM_API_KEY": ("sk-local", "llm_api_key", "sk-local"),
    "LLM_TIMEOUT_SECONDS": ("5", "llm_timeout_seconds", 5.0),
    "LLM_GPU_FRACTION": ("0.6", "llm_gpu_fraction", 0.6),
    "RISK_BANDS": ("20,50,90", "risk_bands", RiskBands(20, 50, 90)),
    "HOMESEC_TIMEZONE": ("Europe/Berlin", "timezone", "Europe/Berlin"),
    "BASELINE_HALF_LIFE_DAYS": ("14", "baseline_half_life_days", 14.0),
    "INCIDENT_WINDOW_SECONDS": ("300", "incident_window_seconds", 300),
    "GPU_POLL_INTERVAL_SECONDS": ("2.5", "gpu_poll_interval_seconds", 2.5),
    "LOG_LEVEL": ("debug", "log_level", "DEBUG"),
    "API_KEY_ENABLED": ("on", "api_key_enabled", True),
    "API_KEYS": ("key-one, key-two", "api_keys", ("key-one", "key-two")),
    "SESSION_HOURS": ("12", "session_hours", 12),
    "FTP_ENABLED": ("false", "ftp_enabled", False),
    "FTP_HOST": ("192.168.1.20", "ftp_host", "192.168.1.20"),
    "FTP_PORT": ("2221", "ftp_port", 2221),
    "FTP_PASSIVE_PORTS": ("50000 - 50010", "ftp_passive_ports", (50000, 50010)),
    "FTP_MASQUERADE_ADDRESS": ("203.0.113.7", "ftp_masquerade_address", "203.0.113.7"),
    "FTP_TLS": ("yes", "ftp_tls", True),
    "FTP_CERTFILE": ("/etc/homesec/ftp.pem", "ftp_certfile", Path("/etc/homesec/ftp.pem")),
    # With FTP_CERTFILE only (a key without its certificate is refused, see below).
    "FTP_KEYFILE": ("", "ftp_keyfile", None),
    "MAX_UPLOAD_BYTES": ("1048576", "max_upload_bytes", 1_048_576),
    "FTP_MAX_CONNECTIONS_PER_ACCOUNT": ("2", "ftp_max_connections_per_account", 2),
    "FTP_BAN_ATTEMPTS": ("10", "ftp_ban_attempts", 10),
    "FTP_BAN_WINDOW_SECONDS": ("60", "ftp_ban_window_seconds", 60.0),
    "FTP_BAN_SECONDS": ("3600", "ftp_ban_seconds", 3600.0),
    "FTP_LOGIN_TIMEOUT_SECONDS": ("5", "ftp_login_timeout_seconds", 5.0),
    "FTP_MAX_UNAUTHENTICATED": ("64", "ftp_max_unauthenticated", 64),
    "FTP_MAX_UNAUTHENTICATED_PER_ADDRESS": ("2", "ftp_max_unauthenticated_per_address", 2),
    "FTP_CAMERA_QUOTA_BYTES": ("0", "ftp_camera_quota_bytes", 0),
    "NOTIFY_URLS": (
        "ntfy://ntfy.sh/home, json://127.0.0.1:8080",
        "notify_urls",
        ("ntfy://ntfy.sh/home", "json://127.0.0.1:8080"),
    ),
    "MQTT_URL": ("mqtt://ha:pw@broker:1883", "mqtt_url", "mqtt://ha:pw@broker:1883"),
    # A real file: test_mqtt_ca_file_is_read_at_start.
    "MQTT_CA_FILE": ("", "mqtt_ca_file", None),
    "MQTT_TOPIC_PREFIX": ("/house/sec/", "mqtt_topic_prefix", "house/sec"),
    "HOMEASSISTANT_DISCOVERY": ("false", "homeassistant_discovery", False),
    "WEBHOOK_URLS": ("https://a.example/hook", "webhook_urls", ("https://a.example/hook",)),
    "WEBHOOK_SECRET": ("s3", "webhook_secret", "s3"),
    "NOTIFY_QUIET_HOURS": ("23:00-07:00", "notify_quiet_hours", (dt.time(23, 0), dt.time(7, 0))),
    "HOMESEC_PUBLIC_URL": ("https://cam.example/", "public_url", "https://cam.example"),
    "NOTIFY_TIMEOUT_SECONDS": ("5", "notify_timeout_seconds", 5.0),
    "NOTIFY_MAX_ATTEMPTS": ("3", "notify_max_attempts", 3),
    "NOTIFY_UPDATE_MIN_SCORE_CHANGE": ("0", "notify_update_min_score_change", 0),
    "HOUSE_MODE_SCHEDULE": ("on", "house_mode_schedule", True),
    "HOUSE_MODE_NIGHT_HOURS": ("22:30-07:00", "house_mode_night_hours", (NIGHT_START, NIGHT_END)),
    "DIGEST_AT": ("7:05", "digest_at", dt.time(7, 5)),
    "DIGEST_NIGHT_STARTS": ("19:30", "digest_night_starts", dt.time(19, 30)),
}


def test_every_variable_has_a_case():
    assert set(GOOD_VALUES) == set(ENV_VARS)


@pytest.mark.parametrize("variable", sorted(GOOD_VALUES))
def test_every_variable_is_parsed(variable: str):
    text, field, expected = GOOD_VALUES[variable]
    assert getattr(load(**{variable: text}), field) == expected


BAD_VALUES = [
    ("DATABASE_URL", "mysql://u@h/db"),
    ("DATABASE_URL", "postgresql:///nohost"),
    ("REDIS_URL", "http://cache"),
    ("HOMESEC_PORT", "0"),
    ("HOMESEC_PORT", "eighty"),
    ("HOMESEC_RAY_PORT", "70000"),
    ("HOMESEC_RAY_PORT", "16390"),  # in Ray's worker port range: the head would exit at start
    ("HOMESEC_RAY_DASHBOARD_PORT", "10002"),
    ("HOMESEC_RAY_DASHBOARD_PORT", "-1"),
    ("HOMESEC_HOST", "  "),
    ("HOMESEC_ALLOW_INSECURE_BIND", "maybe"),
    ("HOMESEC_ALLOWED_HOSTS", "https://cams.example.net"),
    ("HOMESEC_ALLOWED_HOSTS", "cams.example.net:8443"),
    ("HOMESEC_ALLOWED_HOSTS", "bad host"),
    ("RETENTION_DAYS", "0"),
    ("RETENTION_DAYS", "thirty"),
    ("LOG_RETENTION_DAYS", "-1"),
    ("CLEANUP_TIME", "25:00"),
    ("CLEANUP_TIME", "3am"),
    ("DELETE_IMAGES", "2"),
    ("MIN_FREE_DISK_PERCENT", "120"),
    ("STRAY_FILE_GRACE_HOURS", "0"),
    ("REJECTED_UPLOAD_RETENTION_DAYS", "0"),
    ("DEDUPE_TTL_SECONDS", "0"),
    ("FILE_WATCHER_POLLING", "sometimes"),
    ("UPLOAD_SETTLE_SECONDS", "-1"),
    ("MIN_IMAGE_BYTES", "0"),
    ("MAX_IMAGE_PIXELS", "lots"),
    ("QUEUE_MAX_DEPTH", "0"),
    ("MAX_RETRIES", "-2"),
    ("RETRY_BASE_SECONDS", "0"),
    ("CAMERA_OFFLINE_SECONDS", "0"),
    ("DETECTOR_MODEL", ""),
    ("DETECTOR_DEVICE", "tpu"),
    ("DETECTOR_ENGINE", "onnx"),
    ("DETECTOR_PRECISION", "fp16"),
    ("DETECTOR_BATCH_SIZE", "0"),
    ("DETECTOR_BATCH_WAIT_MS", "-5"),
    ("DETECTOR_GPU_FRACTION", "0"),
    ("DETECTOR_GPU_FRACTION", "1.5"),
    ("DETECTOR_REPLICAS", "0"),
    ("DETECTION_CONFIDENCE_THRESHOLD", "1.1"),
    ("DETECTION_CONFIDENCE_THRESHOLD", "nan"),
    ("DETECTION_OBJECT_TYPES", " , "),
    ("BATCH_WINDOW_SECONDS", "0"),
    ("BATCH_IDLE_TIMEOUT_SECONDS", "-3"),
    ("BATCH_MAX_DETECTIONS", "0"),
    ("FAST_PATH_CONFIDENCE_THRESHOLD", "2"),
    ("FAST_PATH_OBJECT_TYPES", " , "),
    ("FAST_PATH_COOLDOWN_SECONDS", "-1"),
    ("STATIONARY_MIN_IOU", "0"),
    ("STATIONARY_FORGET_MINUTES", "-5"),
    ("STATIONARY_SETTLE_SECONDS", "-1"),
    ("LLM_ENGINE", "gpt"),
    ("LLM_URL", "ftp://llm"),
    ("LLM_MODEL", " "),
    ("LLM_TIMEOUT_SECONDS", "0"),
    ("LLM_GPU_FRACTION", "0"),
    ("RISK_BANDS", "60,30,85"),
    ("RISK_BANDS", "30,60"),
    ("HOMESEC_TIMEZONE", "Mars/Olympus"),
    ("BASELINE_HALF_LIFE_DAYS", "0"),
    ("BASELINE_HALF_LIFE_DAYS", "inf"),
    ("INCIDENT_WINDOW_SECONDS", "-1"),
    ("INCIDENT_WINDOW_SECONDS", "3601"),
    ("GPU_POLL_INTERVAL_SECONDS", "0"),
    ("LOG_LEVEL", "LOUD"),
    ("API_KEY_ENABLED", "perhaps"),
    ("SESSION_HOURS", "0"),
    ("SESSION_HOURS", "a week"),
    ("HOMESEC_DATA_DIR", " "),
    ("FOSCAM_BASE_PATH", ""),
    ("FTP_ENABLED", "sure"),
    ("FTP_HOST", " "),
    ("FTP_PORT", "12121"),  # in Ray's worker port range
    ("FTP_PORT", "0"),
    ("FTP_PASSIVE_PORTS", "60099-60000"),
    ("FTP_PASSIVE_PORTS", "19990-20010"),  # overlaps Ray's worker ports
    ("FTP_PASSIVE_PORTS", "60000"),
    ("FTP_TLS", "maybe"),
    ("FTP_KEYFILE", "/etc/homesec/ftp.key"),  # without FTP_CERTFILE
    ("MAX_UPLOAD_BYTES", "0"),
    ("FTP_MAX_CONNECTIONS_PER_ACCOUNT", "0"),
    ("FTP_BAN_ATTEMPTS", "0"),
    ("FTP_BAN_WINDOW_SECONDS", "0"),
    ("FTP_BAN_SECONDS", "-1"),
    ("FTP_LOGIN_TIMEOUT_SECONDS", "0"),
    ("FTP_MAX_UNAUTHENTICATED", "0"),
    ("FTP_MAX_UNAUTHENTICATED_PER_ADDRESS", "0"),
    ("FTP_CAMERA_QUOTA_BYTES", "-1"),
    ("NOTIFY_URLS", "ntfy.sh/home"),
    ("MQTT_URL", "http://broker:1883"),
    ("MQTT_URL", "mqtt://broker:port"),
    ("MQTT_CA_FILE", "/nonexistent/mqtt-ca.pem"),  # missing
    ("MQTT_CA_FILE", "/tmp"),  # a directory: unreadable as a file (root reads any file)
    ("MQTT_CA_FILE", str(Path(__file__).parents[2] / "pyproject.toml")),  # no PEM in it
    ("MQTT_TOPIC_PREFIX", "home/#"),
    ("HOMEASSISTANT_DISCOVERY", "sometimes"),
    ("WEBHOOK_URLS", "ftp://hook"),
    ("NOTIFY_QUIET_HOURS", "23:00"),
    ("NOTIFY_QUIET_HOURS", "07:00-07:00"),
    ("HOMESEC_PUBLIC_URL", "cam.example"),
    ("NOTIFY_TIMEOUT_SECONDS", "0"),
    ("NOTIFY_MAX_ATTEMPTS", "0"),
    ("NOTIFY_UPDATE_MIN_SCORE_CHANGE", "-1"),
    ("NOTIFY_UPDATE_MIN_SCORE_CHANGE", "101"),
    ("NOTIFY_UPDATE_MIN_SCORE_CHANGE", "ten"),
    ("HOUSE_MODE_NIGHT_HOURS", ""),
    ("HOUSE_MODE_NIGHT_HOURS", "23:00"),
    ("HOUSE_MODE_NIGHT_HOURS", "06:00-06:00"),
    ("HOUSE_MODE_SCHEDULE", "sometimes"),
    ("DIGEST_AT", "7am"),
    ("DIGEST_AT", "24:00"),
    ("DIGEST_NIGHT_STARTS", ""),
    ("DIGEST_NIGHT_STARTS", "evening"),
]


def test_every_variable_has_a_bad_case():
    # free text
    refusable = set(ENV_VARS) - {
        "RAY_ADDRESS", "LLM_API_KEY", "API_KEYS", "FTP_MASQUERADE_ADDRESS", "FTP_CERTFILE",
        "WEBHOOK_SECRET",
    }  # fmt: skip
    assert refusable <= {name for name, _ in BAD_VALUES}


@pytest.mark.parametrize(("variable", "text"), BAD_VALUES)
def test_bad_value_is_refused_with_its_name(variable: str, text: str):
    env = {"HOMESEC_DATA_DIR": "/tmp/homesec-test-data", variable: text}
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert message.startswith(f"{variable}=")
    assert "expected" in message
    assert "\n" not in message


def test_database_url_accepts_both_schemes():
    plain = load(DATABASE_URL="postgresql://u@h:5432/d").database_url
    asyncpg = load(DATABASE_URL="postgresql+asyncpg://u@h:5432/d").database_url
    assert plain == asyncpg == "postgresql+asyncpg://u@h:5432/d"


def test_empty_url_means_embedded():
    settings = load(DATABASE_URL="", REDIS_URL="")
    assert settings.database_url is None and settings.redis_url is None


def test_toml_file_is_read_and_environment_wins(tmp_path: Path):
    config = tmp_path / "homesec.toml"
    config.write_text(
        'retention_days = 10\nfast_path_object_types = ["person", "dog"]\n'
        "delete_images = true\nhomesec_port = 8100\n"
    )
    settings = load_settings(
        {"HOMESEC_DATA_DIR": str(tmp_path), "HOMESEC_CONFIG": str(config), "HOMESEC_PORT": "8200"}
    )
    assert settings.retention_days == 10
    assert settings.fast_path_object_types == ("person", "dog")
    assert settings.delete_images is True
    assert settings.port == 8200


def test_toml_in_data_dir_is_found(tmp_path: Path):
    (tmp_path / "homesec.toml").write_text("max_retries = 7\n")
    assert load_settings({"HOMESEC_DATA_DIR": str(tmp_path)}).max_retries == 7


def test_bad_toml_is_refused_with_a_clear_line(tmp_path: Path):
    config = tmp_path / "bad.toml"
    config.write_text("retention_days = = 3")
    with pytest.raises(SettingsError, match=r"^HOMESEC_CONFIG: .* is not valid TOML"):
        load_settings({"HOMESEC_DATA_DIR": str(tmp_path), "HOMESEC_CONFIG": str(config)})
    config.write_text("no_such_setting = 3")
    with pytest.raises(SettingsError, match="unknown setting 'no_such_setting'"):
        load_settings({"HOMESEC_DATA_DIR": str(tmp_path), "HOMESEC_CONFIG": str(config)})
    config.write_text("retention_days = 0")
    with pytest.raises(SettingsError, match=r"^RETENTION_DAYS="):
        load_settings({"HOMESEC_DATA_DIR": str(tmp_path), "HOMESEC_CONFIG": str(config)})


def test_masked_hides_every_secret():
    settings = load(
        DATABASE_URL="postgresql://homesec:hunter2@db/h",
        REDIS_URL="redis://:s3cret@cache:6379/0",
        API_KEYS="abc,def",
        LLM_API_KEY="sk-live",
        NOTIFY_URLS="tgram://bottoken/chatid",
        WEBHOOK_URLS="https://hooks.example/T0KEN",
        WEBHOOK_SECRET="hmac-key",
        MQTT_URL="mqtt://ha:mqttpw@broker:1883",
    )
    masked = settings.masked()
    shown = repr(masked)
    for secret in ("hunter2", "s3cret", "abc", "def", "sk-live", "bottoken", "T0KEN", "hmac-key",
                   "mqttpw"):  # fmt: skip
        assert secret not in shown
    assert masked["DATABASE_URL"] == "postgresql+asyncpg://homesec:****@db/h"
    assert list(masked["API_KEYS"]) == ["****", "****"]
    assert masked["RETENTION_DAYS"] == 30


def test_secret_values_are_not_echoed_in_errors():
    with pytest.raises(SettingsError) as caught:
        load(DATABASE_URL="mysql://u:hunter2@h/d")
    assert "hunter2" not in str(caught.value)
    assert "mysql://u:****@h/d" in str(caught.value)
    assert mask_url("redis://:pw@h:1/0") == "redis://:****@h:1/0"


def test_a_ray_port_among_the_workers_ports_says_which_are_free():
    with pytest.raises(SettingsError, match=r"^HOMESEC_RAY_PORT='16390' .* outside 10002-19999"):
        load(HOMESEC_RAY_PORT="16390")
    assert load(HOMESEC_RAY_PORT="20000").ray_port == 20000


def test_detection_object_types_default_to_a_house_and_all_keeps_every_class(tmp_path):
    base = {"HOMESEC_DATA_DIR": str(tmp_path)}
    default = load_settings(base).detection_object_types
    assert {"person", "car", "dog", "bear", "knife", "baseball bat", "handbag"} <= set(default)
    assert "potted plant" not in default and "dining table" not in default
    assert load_settings(base | {"DETECTION_OBJECT_TYPES": "all"}).detection_object_types == ()


def test_mqtt_ca_file_is_read_at_start(tmp_path: Path):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    settings = load(MQTT_URL="mqtts://broker:8883", MQTT_CA_FILE=str(ca_file))
    assert settings.mqtt_ca_file == ca_file
    ca_file.unlink()
    with pytest.raises(SettingsError) as caught:
        load(MQTT_URL="mqtts://broker:8883", MQTT_CA_FILE=str(ca_file))
    assert str(caught.value) == (
        f"MQTT_CA_FILE={str(ca_file)!r} is not valid: expected a readable PEM file of CA "
        "certificates (No such file or directory)"
    )


def test_mqtt_ca_file_needs_tls(tmp_path: Path):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    with pytest.raises(SettingsError, match=r"^MQTT_CA_FILE=.* expected an mqtts:// MQTT_URL"):
        load(MQTT_URL="mqtt://broker:1883", MQTT_CA_FILE=str(ca_file))


@pytest.mark.parametrize(
    ("variable", "text", "choices"),
    [
        ("DETECTOR_ENGINE", "tensorrt", "auto, openvino, torch"),
        ("DETECTOR_PRECISION", "int8", "auto, f32, bf16"),
    ],
)
def test_detector_engine_and_precision_name_their_choices(variable, text, choices):
    with pytest.raises(SettingsError) as caught:
        load(**{variable: text})
    assert str(caught.value).startswith(f"{variable}=")
    assert choices in str(caught.value)

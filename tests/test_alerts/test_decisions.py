"""Alert decisions as pure functions of (rule, event, last sent, now): matching, schedules,
cooldowns, quiet hours, the replay of past events, channels and retries."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from homesec.contract.alerts import AlertRule, AlertStatus, AnnouncedEvent, JudgedEvent
from homesec.policy.alert_channels import configured_channels, url_channel
from homesec.policy.alert_message import compose, dashboard_link
from homesec.policy.alert_rules import (
    after_failure,
    channel_choices,
    decide,
    in_schedule,
    match_failure,
    parse_time_range,
    replay,
    retry_delay,
    rule_channels,
    update_status,
    update_worth_a_push,
)
from homesec.policy.home_assistant import Topics, discovery_configs, event_type
from homesec.settings import load_settings

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
DEFAULT = AlertRule(name="High risk or above", min_risk_level="high")
# Friday 5 December 2025, 23:30 in Berlin.
FRIDAY_NIGHT = dt.datetime(2025, 12, 5, 23, 30, tzinfo=BERLIN)


def event(**changes) -> JudgedEvent:
    values = dict(
        event_id=1,
        camera_id="porch",
        risk_score=70,
        risk_level="high",
        is_fast_path=True,
        started_at=FRIDAY_NIGHT,
        confidences={"person": 0.95},
    )
    return JudgedEvent(**{**values, **changes})


def test_the_default_rule_fires_for_high_and_critical_only():
    for level, score, fires in [("low", 10, False), ("medium", 40, False), ("high", 60, True),
                                ("critical", 90, True), (None, None, False)]:  # fmt: skip
        verdict = decide(DEFAULT, event(risk_level=level, risk_score=score), None, FRIDAY_NIGHT)
        assert (verdict.status is AlertStatus.PENDING) is fires, (level, verdict.reason)


@pytest.mark.parametrize(
    ("rule", "facts", "reason"),
    [
        (AlertRule(name="r", enabled=False), event(), "disabled"),
        (AlertRule(name="r", min_risk_score=80), event(), "risk score 70 is below 80"),
        (AlertRule(name="r", camera_ids=("garage",)), event(), "camera porch"),
        (AlertRule(name="r", object_types=("car",)), event(), "no car"),
        (AlertRule(name="r", min_confidence=0.97), event(), "best confidence 0.95"),
        (AlertRule(name="r", fast_path=False), event(), "batch events only"),
        (AlertRule(name="r", fast_path=True), event(is_fast_path=False), "fast-path events only"),
        (AlertRule(name="r", days=(1, 2, 3, 4)), event(), "schedule"),
    ],
)
def test_each_condition_can_refuse_and_says_which(rule, facts, reason):
    failure = match_failure(rule, facts, BERLIN)
    assert failure is not None and reason in failure


def test_conditions_are_anded_and_all_hold():
    rule = AlertRule(
        name="people at night at the porch",
        min_risk_score=60,
        camera_ids=("porch",),
        object_types=("person", "car"),
        min_confidence=0.9,
        days=(5,),
        time_ranges=("22:00-06:00",),
        fast_path=True,
    )
    assert match_failure(rule, event(), BERLIN) is None


def test_a_schedule_over_midnight_belongs_to_the_day_it_started():
    friday_night = ("22:00-06:00",)
    saturday_3am = dt.datetime(2025, 12, 6, 3, 0, tzinfo=BERLIN)
    friday_3am = dt.datetime(2025, 12, 5, 3, 0, tzinfo=BERLIN)
    assert in_schedule((5,), friday_night, saturday_3am)
    assert not in_schedule((5,), friday_night, friday_3am)
    assert in_schedule((4,), friday_night, friday_3am)  # Thursday's night
    assert not in_schedule((5,), friday_night, dt.datetime(2025, 12, 5, 21, 59, tzinfo=BERLIN))
    assert in_schedule((), ("08:00-09:00", "22:00-23:00"), dt.datetime(2025, 12, 1, 8, 30))
    assert in_schedule((1,), (), dt.datetime(2025, 12, 1, 8, 30))  # a Monday, all day


def test_the_schedule_is_judged_in_the_houses_zone():
    # 23:30 in Berlin is 22:30 UTC: a rule for "after 23:00" holds in Berlin's zone only.
    rule = AlertRule(name="late", time_ranges=("23:00-23:59",))
    utc_event = event(started_at=FRIDAY_NIGHT.astimezone(dt.UTC))
    assert match_failure(rule, utc_event, BERLIN) is None
    assert match_failure(rule, utc_event, dt.UTC) is not None


@pytest.mark.parametrize("text", ["22-06", "25:00-06:00", "10:00-10:00", "", "22:00 to 06:00"])
def test_bad_time_ranges_are_refused_with_what_is_accepted(text):
    with pytest.raises(ValueError, match=r"HH:MM-HH:MM|starts where it ends"):
        parse_time_range(text)


def test_the_cooldown_is_per_rule_and_camera_and_ends():
    now = FRIDAY_NIGHT
    rule = AlertRule(name="r", cooldown_seconds=300)
    recent = now - dt.timedelta(seconds=299)
    assert decide(rule, event(), recent, now).status is AlertStatus.SUPPRESSED_COOLDOWN
    old = now - dt.timedelta(seconds=300)
    assert decide(rule, event(), old, now).status is AlertStatus.PENDING
    no_cooldown = AlertRule(name="r", cooldown_seconds=0)
    assert decide(no_cooldown, event(), now, now).status is AlertStatus.PENDING


def test_quiet_hours_hold_everything_but_critical():
    quiet = (dt.time(23, 0), dt.time(7, 0))
    high = decide(DEFAULT, event(), None, FRIDAY_NIGHT, quiet_hours=quiet, zone=BERLIN)
    assert high.status is AlertStatus.SUPPRESSED_QUIET_HOURS
    critical = event(risk_level="critical", risk_score=95)
    passed = decide(DEFAULT, critical, None, FRIDAY_NIGHT, quiet_hours=quiet, zone=BERLIN)
    assert passed.status is AlertStatus.PENDING
    morning = FRIDAY_NIGHT.replace(hour=7, minute=0)
    assert decide(DEFAULT, event(), None, morning, quiet_hours=quiet, zone=BERLIN).status is (
        AlertStatus.PENDING
    )
    # Quiet hours are the owner's clock (now), not the event's time.
    late_decision = decide(DEFAULT, event(started_at=morning), None, FRIDAY_NIGHT,
                           quiet_hours=quiet, zone=BERLIN)  # fmt: skip
    assert late_decision.status is AlertStatus.SUPPRESSED_QUIET_HOURS


def test_replay_applies_the_cooldown_the_earlier_alerts_would_have_set():
    start = FRIDAY_NIGHT
    events = [
        event(event_id=1, started_at=start),
        event(event_id=2, started_at=start + dt.timedelta(seconds=60)),
        event(event_id=3, started_at=start + dt.timedelta(seconds=400), camera_id="porch"),
        event(event_id=4, started_at=start + dt.timedelta(seconds=61), camera_id="garage"),
        event(event_id=5, started_at=start, risk_level="low", risk_score=5),
    ]
    verdicts = {facts.event_id: verdict.status for facts, verdict in replay(DEFAULT, events)}
    assert verdicts == {
        1: AlertStatus.PENDING,
        2: AlertStatus.SUPPRESSED_COOLDOWN,
        3: AlertStatus.PENDING,
        4: AlertStatus.PENDING,
        5: None,
    }


def test_channels_by_kind_and_url_hash():
    settings = load_settings({
        "HOMESEC_DATA_DIR": "/tmp/x",
        "MQTT_URL": "mqtt://broker:1883",
        "NOTIFY_URLS": "ntfy://ntfy.sh/a,json://127.0.0.1:9",
        "WEBHOOK_URLS": "https://hook.example/secret",
    })  # fmt: skip
    channels = configured_channels(settings)
    assert next(iter(channels)) == "mqtt" and len(channels) == 4
    hook = url_channel("webhook", "https://hook.example/secret")
    assert channels[hook] == "https://hook.example/secret" and "secret" not in hook
    assert rule_channels(DEFAULT, channels) == list(channels)
    only_push = AlertRule(name="r", channels=("apprise",))
    assert [c.split(":")[0] for c in rule_channels(only_push, channels)] == ["apprise", "apprise"]


def test_retries_back_off_and_give_up():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert retry_delay(30) == 300.0
    assert after_failure(2, 3) is AlertStatus.PENDING
    assert after_failure(3, 3) is AlertStatus.FAILED


def test_an_update_pushes_only_when_the_band_changes_or_the_score_moves_past_the_margin():
    cases = [
        # (previous band, score), (new band, score), margin, a push?
        (("high", 70), ("high", 70), 15, False),  # the same verdict again
        (("high", 70), ("high", 75), 15, False),
        (("high", 70), ("high", 85), 15, False),  # exactly the margin: not more than it
        (("high", 70), ("high", 86), 15, True),
        (("high", 70), ("high", 54), 15, True),  # down as well as up
        (("high", 70), ("critical", 72), 15, True),  # a new band, however close the score
        (("high", 62), ("medium", 58), 15, True),
        (("high", 70), ("high", 71), 0, True),  # margin 0: any move pushes
        (("high", 70), ("high", 70), 0, False),
        ((None, None), ("high", 70), 15, True),  # scored at last
        (("high", 70), ("high", None), 15, False),
    ]
    for (old_level, old_score), (new_level, new_score), margin, pushes in cases:
        got = update_worth_a_push(old_level, old_score, new_level, new_score, margin)
        assert got is pushes, (old_level, old_score, new_level, new_score, margin)


def test_a_quiet_update_still_goes_to_mqtt_and_webhooks_but_not_as_a_push():
    for channel in ("mqtt", "webhook:1a2b3c4d"):
        assert update_status(channel, worth_a_push=False) is AlertStatus.PENDING
    assert update_status("apprise:1a2b3c4d", worth_a_push=True) is AlertStatus.PENDING
    assert update_status("apprise:1a2b3c4d", worth_a_push=False) is (
        AlertStatus.SUPPRESSED_UNCHANGED
    )


def test_update_margin_is_a_setting_with_a_default_of_15_points():
    settings = load_settings({"HOMESEC_DATA_DIR": "/tmp/x"})
    assert settings.notify_update_min_score_change == 15
    changed = load_settings({"HOMESEC_DATA_DIR": "/tmp/x", "NOTIFY_UPDATE_MIN_SCORE_CHANGE": "5"})
    assert changed.notify_update_min_score_change == 5


def test_the_message_carries_camera_time_band_summary_link_and_update_title():
    event = AnnouncedEvent(
        event_id=9, camera_id="porch", camera_name="Porch",
        started_at=FRIDAY_NIGHT.astimezone(dt.UTC), risk_level="high", risk_score=72,
        summary="A person at the door", object_types=("person",), thumbnail_path="/t.jpg",
    )  # fmt: skip
    message = compose(
        alert_id=7, kind="update", idempotency_key="update:7:9", event=event,
        link_base="https://cam.example", zone=BERLIN,
    )  # fmt: skip
    assert message.title == "Update: Person at Porch (high 72)"
    assert message.update and message.alert_id == 7
    assert "Porch, Fri 05 Dec 23:30:00" in message.body and "A person at the door" in message.body
    assert message.link == dashboard_link("https://cam.example", 9) in message.body
    assert message.local_time.startswith("2025-12-05T23:30:00+01:00")


def test_home_assistant_discovery_makes_one_device_with_five_entities():
    configs = dict(discovery_configs(Topics("homesec"), "porch", "Porch"))
    assert set(configs) == {
        "homeassistant/binary_sensor/homesec_porch/person/config",
        "homeassistant/sensor/homesec_porch/risk/config",
        "homeassistant/image/homesec_porch/snapshot/config",
        "homeassistant/event/homesec_porch/event/config",
        # Issue 23: ON while the camera is covered, moved, blurred or offline.
        "homeassistant/binary_sensor/homesec_porch/problem/config",
    }
    for config in configs.values():
        assert config["device"]["identifiers"] == ["homesec_porch"]
        assert config["availability_topic"] == "homesec/available"
    image = configs["homeassistant/image/homesec_porch/snapshot/config"]
    assert image["image_topic"] == "homesec/porch/snapshot"
    assert event_type(["dog", "car"]) == "vehicle" and event_type(["person"]) == "person"


def test_two_instances_on_one_broker_never_share_a_home_assistant_id():
    first = dict(discovery_configs(Topics("homesec"), "porch", "Porch"))
    second = dict(discovery_configs(Topics("cabin/homesec"), "porch", "Porch"))
    assert not set(first) & set(second)

    def ids(configs):
        return (
            {config["unique_id"] for config in configs.values()}
            | {config["object_id"] for config in configs.values()}
            | {i for config in configs.values() for i in config["device"]["identifiers"]}
        )

    assert not ids(first) & ids(second)
    assert "homeassistant/sensor/cabin_homesec_porch/risk/config" in second
    assert second["homeassistant/sensor/cabin_homesec_porch/risk/config"]["state_topic"] == (
        "cabin/homesec/porch/risk"
    )


def test_a_rule_that_sends_wins_a_channel_over_one_that_holds_back():
    pending, cooling = AlertStatus.PENDING, AlertStatus.SUPPRESSED_COOLDOWN
    chosen = channel_choices([
        (1, ["webhook:a", "apprise:b"], cooling),  # holds back on both
        (2, ["apprise:b"], pending),  # sends on one: it wins that one
        (3, ["webhook:a", "apprise:b"], AlertStatus.SUPPRESSED_QUIET_HOURS),  # too late to win
    ])  # fmt: skip
    assert chosen == {"webhook:a": (cooling, 1), "apprise:b": (pending, 2)}
    assert channel_choices([]) == {}

"""Source health: what the desk says of each source, in `wiredesk sources`, /healthz and health.report()."""

import datetime as dt
import json
import subprocess
import sys

import pytest
import time_machine
from conftest import NOW, desk_env, migrated, story_copy

from wiredesk.desk import health, pipeline
from wiredesk.models import Delivery

MINUTE = dt.timedelta(minutes=1)


def deliver(source="hp", at=NOW, data=None, quarantined=False):
    with time_machine.travel(at, tick=False):
        delivery = pipeline.receive(data or story_copy(f"Story at {at:%H:%M:%S}"), source=source, transport="cli")
    if quarantined:
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.QUARANTINED, error="unreadable")
    return delivery


def of(slug, now=NOW) -> health.SourceReport:
    return next(r for r in health.report(now=now) if r.slug == slug)


# --- the usual gap --------------------------------------------------------------------------------


def test_the_usual_gap_is_the_median_gap_between_arrivals():
    times = [NOW - n * 10 * MINUTE for n in range(4)] + [NOW - 60 * MINUTE]
    assert health.usual_gap(times) == 10 * MINUTE


def test_deliveries_that_come_together_are_one_arrival():
    burst = [NOW, NOW - dt.timedelta(milliseconds=300), NOW - dt.timedelta(milliseconds=600)]
    assert health.usual_gap(burst + [NOW - 20 * MINUTE, NOW - 40 * MINUTE]) == 20 * MINUTE


def test_too_few_arrivals_have_no_usual_gap():
    assert health.usual_gap([]) is None
    assert health.usual_gap([NOW, NOW - MINUTE]) is None


# --- statuses -------------------------------------------------------------------------------------


def test_a_source_that_delivers_as_usual_is_ok_and_counts_its_hour(db):
    for n in range(6):
        deliver(at=NOW - n * 15 * MINUTE)
    report = of("hp", NOW + MINUTE)
    assert (report.status, report.problems) == ("ok", [])
    assert report.deliveries_last_hour == 4  # 0, 15, 30 and 45 minutes before
    assert report.usual_gap_seconds == 15 * 60 and report.last_delivery == NOW


def test_a_new_source_is_new_until_it_has_a_usual_gap(db):
    deliver()
    assert of("hp").status == "new"


def test_a_source_goes_quiet_after_several_times_its_usual_gap(db):
    for n in range(5):
        deliver(at=NOW - n * 10 * MINUTE)
    assert of("hp", NOW + 39 * MINUTE).status == "ok"
    quiet = of("hp", NOW + 41 * MINUTE)
    assert quiet.status == "quiet"
    assert quiet.problems == [f"nothing since {NOW.isoformat(timespec='seconds')}; it usually delivers every 10 min"]


def test_a_source_that_delivers_often_is_not_quiet_for_a_few_minutes_of_silence(db):
    for n in range(5):
        deliver(at=NOW - n * MINUTE)
    assert of("hp", NOW + 14 * MINUTE).status == "ok"
    assert of("hp", NOW + 16 * MINUTE).status == "quiet"


def test_three_failed_pulls_in_a_row_make_a_source_failing_and_one_success_mends_it(db):
    for n in range(2):
        health.attempted("hp", "ftp", "logging in as hp: 530 Login incorrect.", now=NOW + n * MINUTE)
    assert of("hp").status == "new"
    health.attempted("hp", "ftp", "logging in as hp: 530 Login incorrect.", now=NOW + 2 * MINUTE)
    failing = of("hp")
    assert failing.failing and failing.problems == [
        "ftp: 3 failures in a row; last: logging in as hp: 530 Login incorrect."
    ]
    assert (failing.errors, failing.last_error, failing.last_attempt) == (
        3,
        "ftp: logging in as hp: 530 Login incorrect.",
        NOW + 2 * MINUTE,
    )
    health.attempted("hp", "ftp", now=NOW + 3 * MINUTE)
    mended = of("hp")
    assert not mended.failing and mended.errors == 3 and mended.transports[0].last_success == NOW + 3 * MINUTE


def test_one_transport_failing_is_not_hidden_by_another_that_works(db):
    for _ in range(3):
        health.attempted("hp", "ftp", "connecting to ftp.hp.example:21: timed out", now=NOW)
        health.attempted("hp", "http", now=NOW)
    report = of("hp")
    assert report.failing and [t.transport for t in report.transports] == ["ftp", "http"]


def test_a_source_sending_garbage_is_failing(db):
    deliver(at=NOW - 3 * MINUTE)
    for n in range(3):
        deliver(at=NOW - n * MINUTE, data=f"\x00\xff garbage {n}".encode(), quarantined=True)
    report = of("hp")
    assert report.failing and report.quarantined_last_hour == 3
    assert report.problems == ["its last 3 deliveries could not be read (quarantined)"]
    deliver(at=NOW + MINUTE)
    assert not of("hp", NOW + MINUTE).failing


# --- where it is shown ----------------------------------------------------------------------------

# The Django test client asks from 127.0.0.1 unless told otherwise: a local request, which sees
# the detail.
OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}
TOKEN = "0f3c9a54d1e2b7a8c6f5e4d3c2b1a09f"


def failing_and_healthy():
    """hp delivering every minute, ians failing its pulls."""
    for n in range(4):
        deliver(at=NOW - n * MINUTE)
    for _ in range(3):
        health.attempted("ians", "http", "HTTP 500 Internal Server Error", now=NOW)


def test_healthz_says_ok_with_every_source_and_fails_while_one_is_failing(client, db):
    for n in range(4):
        deliver(at=NOW - n * MINUTE)
        deliver(source="ians", at=NOW - n * MINUTE)
    with time_machine.travel(NOW + MINUTE, tick=False):
        response = client.get("/healthz")
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        body = response.json()
        assert (body["status"], body["failing"], [s["slug"] for s in body["sources"]]) == ("ok", [], ["hp", "ians"])
        assert body["sources"][0]["deliveries_last_hour"] == 4
        for _ in range(3):
            health.attempted("ians", "http", "HTTP 500 Internal Server Error")
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["failing"] == ["ians"]
        assert response.json()["sources"][1]["last_error"] == "http: HTTP 500 Internal Server Error"


def test_healthz_lists_quiet_sources_without_failing(client, db):
    for n in range(4):
        deliver(at=NOW - n * MINUTE)
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["quiet"] == ["hp"]


@pytest.mark.parametrize(
    "headers",
    [
        OUTSIDE,
        # nginx as shipped connects from 127.0.0.1: a request it passes on is from wherever it came.
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"},
        {"REMOTE_ADDR": "::1", "HTTP_FORWARDED": "for=203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_VIA": "1.1 proxy.example"},
        {"REMOTE_ADDR": ""},
        {"REMOTE_ADDR": "localhost"},
    ],
    ids=["remote", "x-forwarded-for", "x-forwarded-proto", "forwarded", "x-real-ip", "via", "no-address", "a-name"],
)
def test_anyone_else_is_told_only_ok_or_failing(client, db, headers):
    with time_machine.travel(NOW + MINUTE, tick=False):
        for n in range(4):
            deliver(at=NOW - n * MINUTE)
        response = client.get("/healthz", **headers)
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
        failing_and_healthy()
        response = client.get("/healthz", **headers)
        assert (response.status_code, response.json()) == (503, {"status": "failing"})
        assert response["Cache-Control"] == "no-store"
        assert client.head("/healthz", **headers).status_code == 503


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_a_local_request_sees_every_source(client, db, address):
    failing_and_healthy()
    body = client.get("/healthz", REMOTE_ADDR=address).json()
    assert body["failing"] == ["ians"] and [s["slug"] for s in body["sources"]] == ["hp", "ians"]


def test_the_health_token_shows_every_source_from_anywhere(client, db, settings):
    settings.WIREDESK = {**settings.WIREDESK, "HEALTH_TOKEN": TOKEN}
    failing_and_healthy()
    for headers in (OUTSIDE, {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}):
        response = client.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"}, **headers)
        assert response.status_code == 503 and response.json()["failing"] == ["ians"]
        assert response.json()["sources"][1]["last_error"] == "http: HTTP 500 Internal Server Error"
        assert client.get("/healthz", headers={"Authorization": f"bearer  {TOKEN}"}, **headers).json()["failing"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}0",
        f"Basic {TOKEN}",
        TOKEN,
        f"Bearer {TOKEN[:-1]}\u00e9",
        "Bearer \u20ac",
    ],
)
def test_a_wrong_or_missing_token_is_told_only_ok_or_failing(client, db, settings, authorization):
    settings.WIREDESK = {**settings.WIREDESK, "HEALTH_TOKEN": TOKEN}
    failing_and_healthy()
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get("/healthz", headers=headers, **OUTSIDE)
    assert (response.status_code, response.json()) == (503, {"status": "failing"})


@pytest.mark.parametrize("token", [None, ""])
def test_without_a_token_set_no_token_opens_the_detail(client, db, settings, token):
    settings.WIREDESK = {**settings.WIREDESK, "HEALTH_TOKEN": token}
    response = client.get("/healthz", headers={"Authorization": "Bearer "}, **OUTSIDE)
    assert response.json() == {"status": "ok"}


def test_the_health_token_comes_from_the_environment(tmp_path):
    env = {**desk_env(), "WIREDESK_DATA": str(tmp_path), "WIREDESK_HEALTH_TOKEN": TOKEN}
    code = "from wiredesk.config import settings; print(settings.WIREDESK['HEALTH_TOKEN'])"
    shown = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert shown.strip() == TOKEN


@pytest.fixture
def data(tmp_path):
    """A data folder with a failing source and a healthy one, made through the commands."""
    env = {**desk_env(), "WIREDESK_DATA": str(tmp_path)}
    story = tmp_path / "story.txt"
    story.write_bytes(story_copy())
    migrated(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "wiredesk.app.cli", "ingest", "--source", "ians", str(story)],
        env=env,
        check=True,
        capture_output=True,
    )
    garbage = tmp_path / "garbage.bin"
    for n in range(3):
        garbage.write_bytes(f"\x00\xff garbage {n}".encode())
        subprocess.run(
            [sys.executable, "-m", "wiredesk.app.cli", "ingest", "--source", "hp", str(garbage)],
            env=env,
            capture_output=True,
        )
    return env


@pytest.mark.embedded
def test_wiredesk_sources_lists_every_source_and_exits_1_while_one_is_failing(data):
    result = subprocess.run(
        [sys.executable, "-m", "wiredesk.app.cli", "sources"], env=data, capture_output=True, text=True
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["source", "status", "last", "delivery", "/hour", "errors", "transports"]
    assert lines[1].split()[:2] == ["hp", "failing"] and lines[1].split()[4:] == ["3", "0", "-"]
    assert lines[2].strip() == "its last 3 deliveries could not be read (quarantined)"
    assert lines[3].split()[:2] == ["ians", "new"]
    shown = subprocess.run(
        [sys.executable, "-m", "wiredesk.app.cli", "sources", "--json"], env=data, capture_output=True, text=True
    )
    assert json.loads(shown.stdout)["failing"] == ["hp"]

"""The task queue on Redis (RedisHuey), as several hosts share it: against the real Redis these
machines and CI run on 127.0.0.1:6379 (WIREDESK_TEST_REDIS_URL names another). Without one the
test fails, saying so: a queue never tried against a server is not known to work."""

import pytest
from conftest import REDIS_URL, desk_env, story_copy
from running_desk import rows, start, stop, wait_for

pytestmark = pytest.mark.embedded  # a desk of its own, on its embedded database, once


def test_a_delivery_is_processed_through_a_queue_on_redis(tmp_path, redis_queue):
    client, name = redis_queue
    env = {
        **desk_env(),
        "WIREDESK_REDIS_URL": REDIS_URL,
        "WIREDESK_QUEUE": name,
        # No sweep meanwhile: only the queue can have processed the delivery.
        "WIREDESK_SWEEP_SECONDS": "3600",
    }
    _, desk = start(tmp_path, env)
    try:
        (tmp_path / "inbox" / "cranes.txt").write_bytes(story_copy())
        wait_for(lambda: rows(tmp_path, "SELECT status FROM wiredesk_delivery") == [("processed",)], timeout=30)
        # Through django.tasks, on RedisHuey: the task's record is in this queue's results.
        assert client.hlen(f"huey.results.{name}") >= 1
        assert client.llen(f"huey.redis.{name}") == 0  # taken off the queue
    finally:
        output = stop(desk)
    assert "Traceback" not in output

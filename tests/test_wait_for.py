"""The suite's own waiting helper says what it waited for when the wait runs out."""

import pytest
import running_desk


def test_a_wait_that_runs_out_names_what_it_waited_for():
    deliveries = []
    with pytest.raises(AssertionError) as ran_out:
        running_desk.wait_for(lambda: len(deliveries) == 3, timeout=0.1)
    assert "timed out after 0.1 s waiting for" in str(ran_out.value)
    assert "len(deliveries) == 3" in str(ran_out.value)


def test_a_wait_that_is_met_gives_what_it_waited_for():
    assert running_desk.wait_for(lambda: "published", timeout=1) == "published"

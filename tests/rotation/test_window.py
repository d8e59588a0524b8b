"""The rotation's arithmetic (infra/rotation/window.py): pure, so every case is one line."""

from __future__ import annotations

import datetime

import pytest

from infra.errors import RotationRefused
from infra.rotation.window import TeamKeyState, plan_finish, plan_rotation, show_duration

NOW = datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def test_a_scheduled_rotation_keeps_the_current_key_as_the_previous_one_for_the_overlap():
    after = plan_rotation(TeamKeyState(1), 7, NOW, compromised=False, where="x")
    assert after == TeamKeyState(2, NOW, NOW + 7 * DAY)
    assert after.previous_generation == 1 and after.previous_open(NOW + 7 * DAY - datetime.timedelta(seconds=1))
    assert not after.previous_open(NOW + 7 * DAY), "the expiry instant itself is outside the window"


@pytest.mark.parametrize("compromised, overlap", [(True, 7), (False, 0)])
def test_a_compromised_key_or_an_overlap_of_zero_keeps_no_previous_key(compromised, overlap):
    after = plan_rotation(TeamKeyState(4, NOW - 30 * DAY), overlap, NOW, compromised=compromised, where="x")
    assert after == TeamKeyState(5, NOW, None) and after.previous_generation is None


def test_a_second_scheduled_rotation_inside_the_window_is_refused_but_a_compromised_one_is_not():
    during = TeamKeyState(2, NOW, NOW + 7 * DAY)
    with pytest.raises(RotationRefused, match=r"^Pulumi.dev.yaml: generation 1 still works until 2026-11-29 10:00 UTC; a second"):
        plan_rotation(during, 7, NOW + DAY, compromised=False, where="Pulumi.dev.yaml")
    assert plan_rotation(during, 7, NOW + DAY, compromised=True, where="x").generation == 3
    assert plan_rotation(during, 7, NOW + 8 * DAY, compromised=False, where="x").generation == 3, "after the window: fine"


def test_finishing_removes_the_previous_key_and_needs_one():
    assert plan_finish(TeamKeyState(2, NOW, NOW + DAY), NOW, where="x") == TeamKeyState(2, NOW, None)
    with pytest.raises(RotationRefused, match="^x: generation 2 has no previous key to retire$"):
        plan_finish(TeamKeyState(2, NOW, None), NOW, where="x")


@pytest.mark.parametrize("seconds, shown", [(0, "0 minutes"), (59 * 60, "59 minutes"), (3 * 3600 + 60, "3 hours"),
                                            (86400, "1 day"), (2 * 86400 + 5 * 3600, "2 days 5 hours"), (-5, "0 minutes")])
def test_durations_read_as_a_person_would_say_them(seconds, shown):
    assert show_duration(datetime.timedelta(seconds=seconds)) == shown

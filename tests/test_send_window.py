"""The dispatcher's window: as many messages in flight as the rate needs at the round trip."""

from __future__ import annotations

import pytest

from bot.channels.pacing import RoundTrip
from bot.delivery.dispatcher import WINDOW_CAP, send_window

RATE = 30 * 0.96  # what the Telegram channel paces at


@pytest.mark.parametrize(
    ("round_trip", "window"),
    [
        (0.0, 1),  # nothing measured yet: one at a time
        (0.002, 2),
        (0.020, 2),  # "one or two" at 20 ms
        (0.100, 4),  # 2.88 under way, one more
        (0.250, 9),  # 7.2 under way, one more
        (0.300, 10),
    ],
)
def test_window_is_rate_times_round_trip_plus_one(round_trip, window):
    assert send_window(RATE, round_trip) == window


def test_window_is_bounded():
    assert send_window(RATE, 5.0) == WINDOW_CAP == 32
    assert send_window(2000, 0.25, cap=8) == 8
    assert send_window(0.0, 1.0) == 1


def test_window_starts_enough_to_keep_the_rate():
    for millis in range(1, 1001):
        round_trip = millis / 1000
        window = send_window(RATE, round_trip)
        if window < WINDOW_CAP:  # window messages per round trip: at least the rate
            assert (window - 1) / round_trip >= RATE  # even with one of them slow to record
            assert (window - 2) / round_trip < RATE  # and no more than that


def test_round_trip_is_a_moving_average_from_its_first_measure():
    trip = RoundTrip(weight=0.5)
    assert trip.seconds == 0.0
    trip.add(0.2)
    assert trip.seconds == pytest.approx(0.2)
    trip.add(0.4)
    assert trip.seconds == pytest.approx(0.3)


def test_round_trip_times_a_failed_request_too():
    trip = RoundTrip()
    with pytest.raises(RuntimeError), trip.timed():
        raise RuntimeError("429")
    assert trip.seconds > 0

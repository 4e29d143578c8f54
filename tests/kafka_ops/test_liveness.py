"""The stall watchdog ends a process whose loop stopped beating, or ignores a stop."""

from __future__ import annotations

import threading

from kafka_ops.liveness import STALL_EXIT_CODE, Heartbeat, StallWatchdog


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def watch(heartbeat: Heartbeat, stall_s: float = 10.0, grace_s: float = 5.0
          ) -> tuple[StallWatchdog, list[int], threading.Event]:
    exits: list[int] = []
    fired = threading.Event()

    def exit_(code: int) -> None:
        exits.append(code)
        fired.set()

    return StallWatchdog(heartbeat, stall_s, grace_s, exit=exit_, poll_s=0.01), exits, fired


def test_a_loop_that_stops_beating_is_ended() -> None:
    clock = Clock()
    heartbeat = Heartbeat(30.0, clock)
    dog, exits, fired = watch(heartbeat)
    dog.start()
    clock.now += 9
    heartbeat.beat()
    clock.now += 9
    assert not fired.wait(0.1)  # beating: alive
    clock.now += 2
    assert fired.wait(2)
    assert exits == [STALL_EXIT_CODE]


def test_a_stop_request_not_honoured_in_time_ends_the_process() -> None:
    clock = Clock()
    heartbeat = Heartbeat(30.0, clock)
    dog, exits, fired = watch(heartbeat)
    dog.start()
    heartbeat.stop_requested()
    clock.now += 4
    heartbeat.beat()
    assert not fired.wait(0.1)
    clock.now += 2
    assert fired.wait(2)
    assert exits == [STALL_EXIT_CODE]
    dog.stop()

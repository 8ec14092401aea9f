"""The background loop under the event loop, the converger and the others."""
import threading
import time

from blazar.utils import worker


def _counting(delay=30.0):
    runs = []
    ran = threading.Event()

    def step():
        runs.append(time.monotonic())
        ran.set()
        return delay
    return runs, ran, step


def _wait_for(ran):
    assert ran.wait(5)
    ran.clear()


def test_a_wake_cuts_the_wait_short():
    runs, ran, step = _counting()
    loop = worker.Worker('test', step)
    loop.start()
    try:
        _wait_for(ran)
        loop.wake()
        _wait_for(ran)
        assert len(runs) == 2
    finally:
        loop.stop()


def test_wakes_within_the_coalescing_time_make_one_run():
    """Every commit woke the event loop and the converger for a pass of
    their queries: under a stream of writes they ran one pass per write."""
    runs, ran, step = _counting()
    loop = worker.Worker('test', step, coalesce=0.5)
    loop.start()
    try:
        _wait_for(ran)
        for _ in range(20):
            loop.wake()
            time.sleep(0.01)
        _wait_for(ran)
        time.sleep(0.3)
        assert len(runs) == 2
        assert runs[1] - runs[0] >= 0.5
    finally:
        loop.stop()


def test_a_stop_is_not_held_by_the_coalescing_time():
    runs, ran, step = _counting()
    loop = worker.Worker('test', step, coalesce=30)
    loop.start()
    _wait_for(ran)
    loop.wake()
    time.sleep(0.05)
    started = time.monotonic()
    loop.stop(timeout=5)
    assert time.monotonic() - started < 1
    assert len(runs) == 1

"""The background loop under the event loop, the converger and the others."""
import contextlib
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


class _Blocking:
    """A step that blocks until released, counting its runs."""

    def __init__(self, delay):
        self.delay = delay
        self.inside, self.release = threading.Event(), threading.Event()
        self.runs = []

    def __call__(self):
        self.runs.append(time.monotonic())
        self.inside.set()
        self.release.wait(5)
        return self.delay


@contextlib.contextmanager
def _running(step):
    loop = worker.Worker('test', step)
    loop.start()
    try:
        assert step.inside.wait(5)
        yield loop
    finally:
        step.release.set()
        loop.stop()


def test_a_pause_waits_for_the_step_under_way_and_runs_none_until_resumed():
    """Tests switch the store between two of them: the event loop went on
    with a transaction astride the switch, and its next statement, on the
    new engine, waited forever for the rows of its own first one."""
    step = _Blocking(0.01)
    with _running(step) as loop:
        threading.Timer(0.3, step.release.set).start()
        started = time.monotonic()
        loop.pause()
        assert time.monotonic() - started >= 0.25   # the step under way ended first
        count = len(step.runs)
        loop.wake()
        time.sleep(0.2)
        assert len(step.runs) == count
        step.inside.clear()
        loop.resume()
        assert step.inside.wait(5)


def test_a_pause_gives_up_waiting_after_its_timeout():
    with _running(_Blocking(30)) as loop:
        started = time.monotonic()
        loop.pause(timeout=0.2)
        assert time.monotonic() - started < 1

"""A background thread that runs one step again and again.

The event loop, the converger, the deferred calls, the healing worker and
the polling monitor all sleep between runs, wake early when asked and stop
on demand; this is that loop once.
"""
import logging
import threading
import time

LOG = logging.getLogger(__name__)


class Worker:
    """Runs ``step()`` until stopped; ``step`` returns the seconds to wait
    before the next run. ``wake()`` cuts a wait short, but runs start at
    least ``coalesce`` seconds apart: under a stream of commits the wakes
    of that time make one run (each run costs the same queries whatever it
    finds). A step that raises is logged and run again after
    ``error_delay`` seconds."""

    def __init__(self, name, step, error_delay=2.0, coalesce=0.0):
        self.name = name
        self.step = step
        self.error_delay = error_delay
        self.coalesce = coalesce
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._paused = False
        self._running = threading.Lock()   # held while a step runs
        self._thread = None

    @property
    def stopping(self):
        return self._stopping.is_set()

    def start(self):
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self):
        self._wake.set()

    def pause(self, timeout=10):
        """Run no step until ``resume()``, once the step under way (if any)
        has ended, waiting for it at most ``timeout`` seconds: the store
        may then be switched (tests) without a transaction of this worker
        astride the switch."""
        self._paused = True
        if self._running.acquire(timeout=timeout):
            self._running.release()

    def resume(self):
        self._paused = False
        self.wake()

    def stop(self, timeout=10):
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self):
        while not self._stopping.is_set():
            self._wake.clear()
            started = time.monotonic()
            with self._running:
                delay = None if self._paused else self._step_once()
            if self._wake.wait(delay) and self.coalesce:
                self._stopping.wait(self.coalesce - (time.monotonic() - started))

    def _step_once(self):
        try:
            return self.step()
        except Exception:
            LOG.exception('%s failed; retrying in %ss', self.name, self.error_delay)
            return self.error_delay

"""Fault injection and a request log for the simulated Nova.

Tests prove that the service's multi-step operations are atomic by making
Nova fail at a chosen step: ``Cloud.inject_fault`` arms a rule, and the
next matching requests are answered by ``app.NovaApp`` with a Nova-shaped
error (so python-novaclient raises exactly what a real cloud would make it
raise) without reaching the cloud's state.  A rule may also only delay the
request (a slow Nova, for timeout tests).

Every request is logged as ``(method, path, action)`` so tests can see
which Nova calls were made, in order.  ``path`` is the path after the
``/v2.1`` prefix without query string (``/os-aggregates/12/action``), or
the whole path for Placement (``/placement/resource_providers/<uuid>``,
answered with Placement-shaped errors);
``action`` is the single key of the JSON body of ``POST .../action``
requests (``add_host``, ``os-stop``...), else None.

The rules and the log have their own lock, independent of the cloud's.
"""
import collections
import dataclasses
import http
import json
import random
import re
import threading
import uuid

from blazar.simulator import errors

LOG_SIZE = 10000     # requests kept in the log (the oldest are dropped)


@dataclasses.dataclass(eq=False)
class Fault:
    """One armed rule; ``hits`` counts the requests it answered."""
    method: str
    path_pattern: str
    action: str = None
    status: int = 500
    message: str = None
    delay: float = 0.0
    remaining: int = 1          # None: until cleared
    skip: int = 0               # matching requests let through first
    probability: float = 1.0    # a matching request fails with this chance
    hits: int = 0
    id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self):
        self.regex = re.compile(self.path_pattern)

    def matches(self, method, path, action):
        return ((self.method == '*' or self.method == method)
                and self.regex.search(path) is not None
                and (self.action is None or self.action == action))

    @property
    def armed(self):
        return self.remaining is None or self.remaining > 0

    def error(self):
        """The error to answer with (``errors.Fault``)."""
        message = self.message
        if message is None:
            message = ('Unexpected API Error.' if self.status == 500 else
                       '%s.' % http.HTTPStatus(self.status).phrase)
        return errors.Fault(self.status, message)


def action_name(body):
    """The action of a ``POST .../action`` body (its only key), or None."""
    try:
        data = json.loads(body or b'null')
    except ValueError:
        return None
    if isinstance(data, dict) and data:
        return next(iter(data))
    return None


class Faults:
    """The armed rules and the request log of one cloud (thread-safe)."""

    def __init__(self, log_size=LOG_SIZE):
        self._lock = threading.Lock()
        self._rules = []
        self._log = collections.deque(maxlen=log_size)
        self._wake = threading.Event()
        self._random = random.Random()

    def inject(self, method, path_pattern, status=500, times=1,
               message=None, action=None, delay=0.0, skip=0, probability=1.0):
        """Arm a rule; see ``Cloud.inject_fault``."""
        if status is not None:
            status = int(status)
            if not 400 <= status <= 599:
                raise ValueError('status must be an HTTP error (4xx/5xx) '
                                 'or None, not %r' % status)
            http.HTTPStatus(status)     # ValueError if unknown
        if status is None and not delay:
            raise ValueError('a fault needs a status, a delay or both')
        if times is not None and times < 1:
            raise ValueError('times must be >= 1 or None (until cleared)')
        if delay < 0:
            raise ValueError('delay must be >= 0')
        if skip < 0:
            raise ValueError('skip must be >= 0')
        if not 0 < probability <= 1:
            raise ValueError('probability must be in (0, 1]')
        fault = Fault(method=method.upper(), path_pattern=path_pattern,
                      action=action, status=status, message=message,
                      delay=float(delay), remaining=times, skip=skip,
                      probability=float(probability))
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self):
        """Disarm every rule and wake the requests being delayed."""
        with self._lock:
            self._rules = []
            self._wake.set()
            self._wake = threading.Event()

    @property
    def pending(self):
        """The rules still armed, oldest first."""
        with self._lock:
            return [rule for rule in self._rules if rule.armed]

    def requests(self):
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._log)

    def clear_requests(self):
        with self._lock:
            self._log.clear()

    def intercept(self, method, path, action=None):
        """Log a request; return the rule it triggers (spent), or None.

        The oldest armed rule matching wins; exhausted rules are dropped.
        """
        with self._lock:
            self._log.append((method, path, action))
            for rule in self._rules:
                if rule.armed and rule.matches(method, path, action):
                    if rule.probability < 1 and self._random.random() >= rule.probability:
                        continue
                    if rule.skip:
                        rule.skip -= 1
                        continue
                    rule.hits += 1
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    self._rules = [r for r in self._rules if r.armed]
                    return rule
            return None

    def wait(self, seconds):
        """Sleep ``seconds``, or less if ``clear`` is called meanwhile."""
        if seconds > 0:
            with self._lock:
                wake = self._wake
            wake.wait(seconds)

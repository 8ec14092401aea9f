"""Loopback ports for the servers the tests start as separate programs.

A port the kernel picks with ``bind(0)`` comes from the ephemeral range,
which every outgoing connection also draws from, and is free again the
moment it is returned: under several test workers, a server could find it
taken before it binds. Each worker here has a slice of its own below the
ephemeral range (32768 and up on Linux), handed out in turn: a port comes
back only once the whole slice has been used.
"""
import itertools
import os
import socket

FIRST, LAST = 20000, 32000


def _worker():
    """0 for a run without workers, else the pytest-xdist worker's number."""
    name = os.environ.get('PYTEST_XDIST_WORKER', 'gw-1')
    return int(name[2:]) + 1


def _slice():
    count = max(int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1')), 1) + 1
    size = (LAST - FIRST) // count
    start = FIRST + _worker() * size
    return range(start, start + size)


_SLICE = _slice()
_candidates = itertools.cycle(_SLICE)


def free_port():
    """A port nothing listens on, from this worker's slice."""
    for port in itertools.islice(_candidates, len(_SLICE)):
        with socket.socket() as sock:
            try:
                sock.bind(('127.0.0.1', port))
            except OSError:
                continue
            return port
    raise AssertionError('every port of %s is taken' % _SLICE)

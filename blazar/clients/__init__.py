"""Clients of the OpenStack services Blazar drives.

Each module here is the only place the service talks to one external API,
so credentials, microversions and error translation live in one spot and
the rest of the service only sees plain dicts and ``blazar.exceptions``.
"""
import threading


class Cached:
    """One client per process, built on first use and dropped by ``reset``
    (tests and reconfiguration change the options it was built from)."""

    def __init__(self, factory):
        self._factory = factory
        self._client = None
        self._lock = threading.Lock()

    def get(self):
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._factory()
                client = self._client
        return client

    def reset(self):
        with self._lock:
            self._client = None

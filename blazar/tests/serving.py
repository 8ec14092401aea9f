"""Waiting for a server the tests started as a separate program."""
import time

import requests


def wait_until_serving(url, proc, log_path, timeout=60):
    """Return once ``url`` answers 200; fail with the program's log
    if it exits or the time is up. A server still starting may refuse the
    connection or answer late (a loaded machine): both are waited out."""
    deadline = time.time() + timeout
    while True:
        assert proc.poll() is None, 'exited (%s):\n%s' % (proc.returncode,
                                                          _tail(log_path))
        assert time.time() < deadline, 'no answer from %s in %ss:\n%s' % (
            url, timeout, _tail(log_path))
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.3)


def _tail(log_path, chars=4000):
    try:
        return log_path.read_text()[-chars:]
    except OSError as exc:
        return '(no log: %s)' % exc

"""Every JSON response the functional tests see is checked against the
OpenAPI document (blazar/api/openapi.py): its status must be documented for
the route and method, and its body must match the schema. Violations are
collected during the session and fail it at the end, listed.

Installed by the session fixture ``openapi_responses`` of conftest.py; set
BLAZAR_OPENAPI_CHECK=0 to turn it off.
"""
import json
import os
import threading
import urllib.parse

from blazar.api import openapi

ENABLED = os.environ.get('BLAZAR_OPENAPI_CHECK', '1') not in ('0', 'false', 'no')


class ResponseChecker:

    def __init__(self):
        self.document = openapi.document()
        self.violations = []
        self.checked = 0
        self._lock = threading.Lock()

    def __call__(self, method, url, response):
        path = urllib.parse.urlsplit(url).path
        if path.rstrip('/') == '/healthcheck':
            return  # oslo.middleware's endpoint, not part of the document
        body = None
        if response.content:
            try:
                body = json.loads(response.content)
            except ValueError:
                body = None
                problems = ['%s %s -> %s: body is not JSON: %r' % (
                    method, path, response.status_code, response.content[:200])]
                self._record(problems)
                return
        problems = openapi.check_response(self.document, method, path,
                                          response.status_code, body)
        self._record(problems)

    def _record(self, problems):
        with self._lock:
            self.checked += 1
            for problem in problems:
                if problem not in self.violations:
                    self.violations.append(problem)

    def report(self):
        return '%d response(s) break the OpenAPI document:\n%s' % (
            len(self.violations), '\n'.join(self.violations[:100]))

"""Fuzzing the running API from its own OpenAPI document with schemathesis:
every operation gets a bounded number of generated requests (bodies, query
and path parameters from the schemas) against the real app on a loopback
port; no answer may be a 5xx or a body that is not JSON, and every answer
must be documented for its operation and match its schema."""
import json
import time

import hypothesis
from hypothesis import strategies as st
import pytest

from blazar.api import openapi

schemathesis = pytest.importorskip('schemathesis')

MAX_EXAMPLES = 15          # per operation
TIME_LIMIT = 45.0          # seconds for the whole run
TOKEN = {'X-Auth-Token': 'admin:admin'}


# Known 5xx answers to tolerate, as predicates on the case (none today).
KNOWN_ISSUES = []


def _settings():
    return hypothesis.settings(
        max_examples=MAX_EXAMPLES, deadline=None, database=None,
        derandomize=True, phases=[hypothesis.Phase.explicit,
                                  hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck))


def _problems(case, response, document):
    method, path = case.method.upper(), case.formatted_path
    where = '%s %s -> %s' % (method, path, response.status_code)
    if response.status_code >= 500 and any(known(case) for known in KNOWN_ISSUES):
        return []
    if response.status_code >= 500:
        return ['%s: server error %s; request query=%r body=%r' % (
            where, response.text[:300], case.query, case.body)]
    body = None
    if response.content:
        try:
            body = json.loads(response.content)
        except ValueError:
            return ['%s: body is not JSON: %r' % (where, response.content[:200])]
    return ['%s (query=%r body=%r)' % (p, case.query, case.body)
            for p in openapi.check_response(document, method, path,
                                            response.status_code, body)]


@pytest.mark.parametrize('database', ['sqlite'], indirect=True)
def test_fuzzing_finds_no_server_error(api):
    # Something to find: a host and a lease on it.
    host = api.post('/v1/os-hosts', {'name': 'compute-1', 'gpu': 'a100'})
    assert host.status_code == 201, host.text
    document = openapi.document()
    schema = schemathesis.openapi.from_dict(openapi.document(api.url))
    deadline = time.monotonic() + TIME_LIMIT
    problems, calls, skipped = [], [0], []

    for result in schema.get_all_operations():
        operation = result.ok()
        if time.monotonic() > deadline:
            skipped.append(operation.label)
            continue

        @_settings()
        @hypothesis.given(case=operation.as_strategy(), data=st.data())
        def run(case, data):
            if time.monotonic() > deadline:
                return
            response = case.call(base_url=api.url, headers=dict(TOKEN), timeout=30)
            calls[0] += 1
            for problem in _problems(case, response, document):
                if problem not in problems:
                    problems.append(problem)

        run()

    assert calls[0] > 0
    assert not problems, '%d problem(s) after %d calls:\n%s' % (
        len(problems), calls[0], '\n'.join(problems[:50]))
    if skipped:
        pytest.skip('time limit reached before %s' % ', '.join(skipped))


@pytest.mark.parametrize('database', ['sqlite'], indirect=True)
def test_the_api_serves_its_document(api):
    response = api.get('/v1/openapi.json')
    assert response.status_code == 200, response.text
    served = response.json()
    assert served['openapi'].startswith('3.0')
    assert served['servers'] == [{'url': api.url}]
    assert served['paths'] == openapi.document()['paths']
    # Loadable by an OpenAPI tool.
    loaded = schemathesis.openapi.from_dict(served)
    assert all(result.ok() for result in loaded.get_all_operations())

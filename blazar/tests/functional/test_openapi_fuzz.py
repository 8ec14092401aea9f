"""Fuzzing the running API from its own OpenAPI document with schemathesis,
as its command line runs it: every check, the examples, coverage (negative
values, missing and unexpected parameters, methods the document does not
list), fuzzing (positive and negative data) and stateful phases (leases
and hosts made, then read, changed and deleted through the document's
links), against the real app on a loopback port, on SQLite and on MariaDB
and PostgreSQL where they answer. Bounded in time: see BUDGET.

The odd inputs a generator seldom writes (content types, deep nesting,
surrogates, NUL, huge numbers, years 1 and 9999) are fuzzed by
test_openapi_agreement.py, which also checks that the server and the
document agree both ways.
"""
import os
import re
import subprocess
import sys

import pytest

from blazar.api import openapi
from blazar.tests import conftest

schemathesis = pytest.importorskip('schemathesis')

ST = os.path.join(os.path.dirname(sys.executable), 'st')
# Seconds of schemathesis per backend: with the agreement test, well under
# the three minutes the fuzzing may add to the suite on all three.
BUDGET = {'sqlite': 45, 'mariadb': 25, 'postgresql': 25}
TOKEN = 'X-Auth-Token: admin:admin'
# A valid request may still be refused with a 400 for a reason its schema
# cannot say (a start in the past, min above max...): the document lists
# those reasons (x-refusals) and test_openapi_agreement.py checks them.
# 413 and 414 (a body or URL over the limits) are documented everywhere.
CONFIG = '''
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "400", "403", "404", "409", "413", "414"]
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415"]
'''


def _run(api, tmp_path, seconds):
    config = tmp_path / 'schemathesis.toml'
    config.write_text(CONFIG)
    command = [
        ST, '--config-file', str(config), '--no-color', 'run',
        api.url + '/v1/openapi.json', '--checks', 'all',
        '--phases', 'examples,coverage,fuzzing,stateful', '--mode', 'all',
        '--max-time', str(seconds), '--seed', '16', '--workers', '1',
        '--header', TOKEN, '--request-timeout', '30',
        '--suppress-health-check', 'all', '--warnings', 'off',
        '--report', 'junit', '--report-dir', str(tmp_path / 'report')]
    return subprocess.run(command, capture_output=True, text=True,
                          timeout=seconds + 120, cwd=tmp_path)


@pytest.mark.parametrize('database', conftest.DB_BACKENDS, indirect=True)
def test_schemathesis_finds_nothing(api, database, tmp_path):
    # Something to find: a host with a capability, and a lease on it.
    assert api.post('/v1/os-hosts', {'name': 'compute-1', 'gpu': 'a100'}).status_code == 201
    lease = api.post('/v1/leases', {
        'name': 'l1', 'start_date': '2030-01-01 10:00', 'end_date': '2030-01-01 12:00',
        'reservations': [{'resource_type': 'physical:host', 'min': 1, 'max': 1}]})
    assert lease.status_code == 201, lease.text
    proc = _run(api, tmp_path, BUDGET[database.backend])
    # Long generated values, cut to keep the report readable.
    output = '\n'.join(line if len(line) < 600 else line[:600] + '...'
                       for line in (proc.stdout + proc.stderr).splitlines())
    (tmp_path / 'schemathesis.out').write_text(output)
    cases = re.search(r'(\d+) generated', output)
    assert proc.returncode == 0, output[-30000:]
    assert cases and int(cases.group(1)) > 100, output[-3000:]


@pytest.mark.parametrize('database', ['sqlite'], indirect=True)
def test_the_api_serves_its_document(api):
    response = api.get('/v1/openapi.json')
    assert response.status_code == 200, response.text
    served = response.json()
    assert served['openapi'].startswith('3.0')
    assert served['servers'] == [{'url': api.url}]
    assert served['paths'] == openapi.document()['paths']
    # noauth: a token is optional, and the document says so.
    assert served['security'] == [{}, {'token': []}]
    # Loadable by an OpenAPI tool.
    loaded = schemathesis.openapi.from_dict(served)
    assert all(result.ok() for result in loaded.get_all_operations())

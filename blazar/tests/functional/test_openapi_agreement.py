"""The server and its OpenAPI document agree, both ways.

Requests are generated from the document (schemathesis' positive and
negative strategies) and some are then made odd on purpose: another
Content-Type, deep nesting, lone surrogates, NUL, huge numbers, years 1
and 9999. Each request is judged on what it put on the wire, against the
document (blazar/api/openapi.py), and its answer must follow:

* a request the document accepts is answered 2xx/3xx, or with a status the
  operation documents for a state reason (403, 404, 409...), or with a 400
  whose message is one of the operation's documented refusals
  (``x-refusals``: what schemas cannot say, such as a start in the past);
* a request the document refuses is a 400 (413/414 when it is too large,
  415 for another Content-Type);
* never a 5xx; every answer is JSON that matches the document; a 4xx
  changes nothing stored.

The background workers (event loop, healing, monitors) are stopped, so
that the store changes only by request.
"""
import json
import os
import random
import re
import time
import urllib.parse

import hypothesis
from hypothesis import strategies as st
import pytest
import requests

from blazar import exceptions
from blazar.api import openapi
from blazar.api import schemas
from blazar.api.middleware import edge
from blazar.tests import conftest
from blazar.tests.functional import conftest as functional
from blazar.tests.functional import test_edge_cases
from blazar.tests.functional.conftest import settled

schemathesis = pytest.importorskip('schemathesis')
from schemathesis import GenerationMode  # noqa: E402

# Seconds per backend (see test_openapi_fuzz.BUDGET for the total).
BUDGET = {'sqlite': 25, 'mariadb': 10, 'postgresql': 10}
EXAMPLES = 6               # per operation, mode and round
# Each run explores anew; a failure names the seed that replays it.
SEED = int(os.environ.get('BLAZAR_FUZZ_SEED') or random.randrange(2 ** 32))
TOKEN = 'admin:admin'
MUTATIONS = ('content-type', 'deep', 'surrogate', 'nul', 'huge-number', 'year-1',
             'year-9999')
ODD_TYPES = ('multipart/form-data', 'text/plain', 'application/xml',
             'application/x-www-form-urlencoded', 'application/json; charset=latin-1')
DATE_FIELDS = {'start_date', 'end_date', 'before_end_date', 'earliest_start',
               'latest_end'}


@pytest.fixture
def quiet_stack(database, simulator, shared_stack):
    """API and manager without background workers but the converger (the
    cloud follows what the requests commit)."""
    functional.stop_shared_stack(shared_stack)
    stack = functional.Stack()
    for worker in (stack.manager.event_loop, stack.manager.healing_worker,
                   stack.manager.monitors):
        worker.stop()
    yield stack
    stack.stop()


# --- judging a request on the wire ------------------------------------------

class Verdict:
    """What the document says of a request: ``valid`` and, when it is not,
    why; the operation and its template (None when undocumented)."""

    def __init__(self, template=None, op=None, valid=True, why=''):
        self.template, self.op, self.valid, self.why = template, op, valid, why


def _is_valid(schema, value):
    return schemas.Validator(openapi.to_json_schema(schema)).is_valid(value)


def judge(doc, method, url, body, content_type):
    parts = urllib.parse.urlsplit(url)
    try:
        path = urllib.parse.unquote(parts.path, errors='strict')
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True,
                                       errors='strict')
    except UnicodeDecodeError:
        return Verdict(valid=False, why='not UTF-8')
    template, op = openapi.operation(doc, method, path)
    if op is None:
        return Verdict(template, None)
    for param in op.get('parameters', []):
        if param['in'] != 'query':
            continue
        values = [v for k, v in query if k == param['name']]
        if param['required'] and not values:
            return Verdict(template, op, False, 'missing %s' % param['name'])
        if any(not _is_valid(param['schema'], v) for v in values):
            return Verdict(template, op, False, 'bad %s' % param['name'])
    if 'requestBody' in op:
        try:
            edge.check_content_type(content_type)
        except exceptions.BlazarException:
            return Verdict(template, op, False, 'content type')
        try:
            value = json.loads(body) if body and body.strip() else {}
        except (ValueError, RecursionError):
            return Verdict(template, op, False, 'not JSON')
        schema = op['requestBody']['content']['application/json']['schema']
        if not _is_valid(schema, value):
            return Verdict(template, op, False, 'body')
    return Verdict(template, op)


def _refused_for_a_documented_reason(op, message):
    return any(re.search(r['message'], message) for r in op.get('x-refusals', []))


def problems_of(doc, method, url, body, content_type, response, changed):
    verdict = judge(doc, method, url, body, content_type)
    status = response.status_code
    where = '%s %s -> %s' % (method, url[:300], status)
    try:
        answer = json.loads(response.content) if response.content else None
    except ValueError:
        return ['%s: not JSON: %r' % (where, response.content[:200])]
    message = answer.get('error_message', '') if isinstance(answer, dict) else ''
    problems = ['%s: %s' % (where, p) for p in openapi.check_response(
        doc, method, urllib.parse.urlsplit(url).path, status, answer)]
    if status >= 500:
        problems.append('%s: server error %s (body %r)' % (where, message, body))
    if 400 <= status < 500 and changed:
        problems.append('%s: refused (%s) but the store changed' % (where, message))
    if verdict.op is None or status >= 500:
        return problems
    if not verdict.valid:
        expected = {415} if verdict.why == 'content type' else {400, 413, 414}
        if status not in expected:
            problems.append('%s: the document refuses it (%s), the server answered '
                            '%s (body %r)' % (where, verdict.why, message or 'success',
                                              body[:300] if body else body))
    elif status == 400 and not _refused_for_a_documented_reason(verdict.op, message):
        problems.append('%s: the document accepts it, the server refused it for an '
                        'undocumented reason: %s (body %r)' % (where, message,
                                                              body[:300] if body else body))
    return problems


# --- making requests odd -----------------------------------------------------

def _strings(value, path=()):
    """Paths of the string leaves (and keys) of a JSON value."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from _strings(sub, path + (key,))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from _strings(sub, path + (index,))


def _set(value, path, new):
    if not path:
        return new
    value = value.copy() if isinstance(value, dict) else list(value)
    value[path[0]] = _set(value[path[0]], path[1:], new)
    return value


def _with_dates(value, date):
    if isinstance(value, dict):
        return {k: (date if k in DATE_FIELDS and isinstance(v, str) else
                    _with_dates(v, date)) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_dates(v, date) for v in value]
    return value


def mutate(kind, rng, method, path, query, body, takes_body):
    """(path, query pairs, body text, content type) made odd in one way."""
    text = json.dumps(body) if takes_body else None
    content_type = 'application/json' if takes_body else None
    if kind == 'content-type':
        content_type = rng.choice(ODD_TYPES)
        if not takes_body:
            text = '--x\r\n{"junk": true}'
    elif kind == 'deep':
        deep = '[' * 1000 + ']' * 1000
        if takes_body:
            text = '{"events": %s}' % deep if rng.random() < 0.5 else deep
        else:
            query = query + [('hypervisor_properties', '[' * 40 + ']' * 40)]
    elif kind in ('surrogate', 'nul'):
        char = '\ud800' if kind == 'surrogate' else '\x00'
        leaves = list(_strings(body)) if takes_body and isinstance(body, dict) else []
        if leaves:
            leaf = rng.choice(leaves)
            value = body
            for part in leaf:
                value = value[part]
            text = json.dumps(_set(body, leaf, value + char))
        elif takes_body:
            text = json.dumps({'x' + char: 'y'})
        elif query:
            index = rng.randrange(len(query))
            name, value = query[index]
            query = query[:index] + [(name, value + char)] + query[index + 1:]
        else:
            path = path + ('%00' if kind == 'nul' else '%ED%A0%80')
    elif kind == 'huge-number':
        if takes_body:
            text = json.dumps(dict(body, ghz='HUGE') if isinstance(body, dict)
                              else body).replace('"HUGE"', rng.choice(
                                  ['1e999', '-1e999', '9' * 5000]))
        else:
            query = [(k, '9' * 40 if k in ('count', 'amount', 'vcpus', 'limit')
                      else v) for k, v in query] + [('count', '9' * 40)]
    else:
        date = '0001-01-01 00:00' if kind == 'year-1' else '9999-12-31 23:59'
        query = [(k, date if k in DATE_FIELDS else v) for k, v in query]
        if takes_body:
            text = json.dumps(_with_dates(body, date))
    return path, query, text, content_type


def _encode(query):
    return '&'.join('%s=%s' % (urllib.parse.quote(k, safe=''),
                               urllib.parse.quote(v.encode('utf-8', 'surrogatepass'),
                                                  safe=''))
                    for k, v in query)


# --- the test ----------------------------------------------------------------

def _requests(operation, mode, world, send, counts, deadline, seed):
    """A hypothesis test sending ``operation``'s requests of ``mode``
    (None: positive ones made odd)."""
    takes_body = 'requestBody' in operation.definition.raw

    @hypothesis.seed(seed)
    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None,
                         phases=[hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(case=operation.as_strategy(
        generation_mode=mode or GenerationMode.POSITIVE), seed=st.integers(0, 2 ** 32))
    def run(case, seed):
        if time.monotonic() > deadline:
            return
        rng = random.Random(seed)
        # Half the time, the objects that exist.
        for name, key in (('lease_id', 'lease'), ('host_id', 'host'),
                          ('floatingip_id', 'floatingip')):
            if name in (case.path_parameters or {}) and rng.random() < 0.5:
                case.path_parameters[name] = world[key]
        path = case.formatted_path
        query = [(k, v if isinstance(v, str) else json.dumps(v))
                 for k, v in (case.query or {}).items() if not isinstance(v, list)]
        body = None
        if takes_body:
            body = case.body if isinstance(
                case.body, (dict, list, str, int, float, bool)) else {}
        if mode is None:
            counts['odd'] += 1
            path, query, text, content_type = mutate(
                rng.choice(MUTATIONS), rng, case.method, path, query, body, takes_body)
        else:
            counts[mode.value] += 1
            text = json.dumps(body) if takes_body else None
            content_type = 'application/json' if takes_body else None
        send(case.method.upper(), path, _encode(query), text, content_type)

    return run


@pytest.mark.parametrize('database', conftest.DB_BACKENDS, indirect=True)
def test_server_and_document_agree(quiet_stack, database):
    api = quiet_stack.api
    world = test_edge_cases.make_world(api)
    doc = openapi.document(api.url, auth_optional=True)
    schema = schemathesis.openapi.from_dict(doc)
    session = requests.Session()
    deadline = time.monotonic() + BUDGET[database.backend]
    problems, counts = [], {'positive': 0, 'negative': 0, 'odd': 0}

    def send(method, path, query_text, text, content_type):
        url = api.url + path + ('?' + query_text if query_text else '')
        headers = {'X-Auth-Token': TOKEN, 'Accept': 'application/json'}
        if content_type:
            headers['Content-Type'] = content_type
        data = text.encode('utf-8', 'surrogatepass') if text is not None else None
        # What earlier requests committed, the converger finishes first
        # (the event loop is off here: due starts stay unapplied).
        settled(events=False)
        before = test_edge_cases.snapshot()
        response = session.request(method, url, data=data, headers=headers, timeout=30)
        changed = (400 <= response.status_code < 500
                   and test_edge_cases.snapshot() != before)
        for problem in problems_of(doc, method, response.request.url, text,
                                   content_type, response, changed):
            if problem not in problems:
                problems.append(problem)

    operations = [result.ok() for result in schema.get_all_operations()]
    rounds = 0
    while time.monotonic() < deadline and rounds < 5:
        rounds += 1
        for number, operation in enumerate(operations):
            raw = operation.definition.raw
            for kind, mode in enumerate((GenerationMode.POSITIVE,
                                         GenerationMode.NEGATIVE, None)):
                if time.monotonic() > deadline:
                    break
                if mode == GenerationMode.NEGATIVE and not (
                        raw.get('parameters') or raw.get('requestBody')):
                    continue  # nothing to get wrong
                run = _requests(operation, mode, world, send, counts, deadline,
                                SEED + rounds * 1000 + number * 3 + kind)
                try:
                    run()
                except hypothesis.errors.Unsatisfiable:
                    pass  # nothing negative to say of this operation
    assert counts['positive'] and counts['negative'] and counts['odd'], counts
    assert not problems, '%d problem(s) after %s (BLAZAR_FUZZ_SEED=%d replays):\n%s' % (
        len(problems), counts, SEED, '\n'.join(p[:800] for p in problems[:40]))

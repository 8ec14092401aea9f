"""The whole service over real HTTP: API app on a loopback port, manager in
process, simulator as Nova, on each database backend."""
import time

import pytest
import requests

from blazar import context as blazar_context
from blazar import rpc
from blazar.api import app as api_app
from blazar.api import controllers
from blazar.db import api as db_api
from blazar.manager import service as manager_service
from blazar.simulator import state as sim_state
from blazar.simulator import testing as sim_testing
from blazar.tests.functional import openapi_check
from blazar.utils import wsgi


@pytest.fixture
def simulator(config):
    with sim_testing.simulated_nova(sim_state.Cloud(hosts=4, vcpus=8)) as server:
        yield server


class Api:
    """A tenant's view of the API: requests carry 'user:project' tokens."""
    observer = None  # called with (method, url, response) when set

    def __init__(self, url, token='admin:admin'):
        self.url = url.rstrip('/')
        self.session = requests.Session()
        self.token = token

    def as_user(self, token):
        return Api(self.url, token)

    def request(self, method, path, body=None, headers=None, **kwargs):
        all_headers = {'Accept': 'application/json'}
        if self.token:
            all_headers['X-Auth-Token'] = self.token
        all_headers.update(headers or {})
        response = self.session.request(method, self.url + path, json=body,
                                        headers=all_headers, timeout=30, **kwargs)
        if Api.observer is not None:  # the OpenAPI response check (opt-in)
            Api.observer(method, self.url + path, response)
        return response

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, body=None, **kw):
        return self.request('POST', path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request('PUT', path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request('PATCH', path, body, **kw)

    def delete(self, path, **kw):
        return self.request('DELETE', path, **kw)


class Stack:
    """API on a loopback port and the manager, over the configured transport."""

    def __init__(self, simulator=None):
        self.simulator = simulator
        self.manager = manager_service.ManagerService()
        self.manager.start()
        self.server = wsgi.Server(api_app.setup_app(), '127.0.0.1', 0,
                                  name='test-api').start()
        self.api = Api(self.server.url)

    def stop(self):
        self.server.stop()
        self.manager.stop()
        controllers.reset_manager()
        rpc.cleanup()


@pytest.fixture(scope='package')
def shared_stack():
    """One running API + manager for the functional tests (it reads the store
    and Nova settings of the current test); a test that needs another
    transport stops it with ``stop_shared_stack``. It stops with the package,
    so its event loop does not outlive the store the tests gave it."""
    holder = {}
    yield holder
    stop_shared_stack(holder)


def stop_shared_stack(holder):
    if holder.get('stack') is not None:
        holder.pop('stack').stop()


@pytest.fixture
def stack(database, simulator, shared_stack):
    """Everything up, on each database backend, with a fresh simulated cloud."""
    if shared_stack.get('stack') is None:
        shared_stack['stack'] = Stack()
    running = shared_stack['stack']
    running.simulator = simulator
    running.manager.resume()
    yield running
    running.manager.pause()


@pytest.fixture
def api(stack):
    return stack.api


def settled(timeout=20, what='the cloud to match the store', events=True):
    """Wait until the converger has no work left (every intent settled),
    as a tenant waits for a lease's status to settle; with ``events``, the
    starts and ends due now must have been applied first."""
    context = blazar_context.get_admin_context()
    deadline = time.time() + timeout

    def busy():
        due = [e for e in db_api.events_due(context, db_api.utcnow())
               if events and e['event_type'] in ('start_lease', 'end_lease')]
        return due or db_api.intents_unsettled(context)
    while busy():
        assert time.time() < deadline, 'timed out waiting for %s' % what
        time.sleep(0.05)


@pytest.fixture(scope='session', autouse=True)
def openapi_responses():
    """Check every response of the session against the OpenAPI document and
    fail at the end listing the violations (blazar/tests/functional/
    openapi_check.py; BLAZAR_OPENAPI_CHECK=0 turns it off)."""
    if not openapi_check.ENABLED:
        yield None
        return
    checker = openapi_check.ResponseChecker()
    Api.observer = checker
    yield checker
    Api.observer = None
    if checker.violations:
        pytest.fail(checker.report(), pytrace=False)

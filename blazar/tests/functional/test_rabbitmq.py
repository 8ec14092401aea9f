"""API -> manager over a real RabbitMQ: calls, errors and statuses survive
the broker exactly as over the in-process transport."""
import uuid

import pytest

from blazar.tests import backends
from blazar.tests.functional import conftest as fconf
from blazar.tests.functional.test_leases import lease_body


@pytest.fixture
def rabbit_api(config, sqlite_database, simulator, shared_stack):
    backends.require('rabbitmq')
    fconf.stop_shared_stack(shared_stack)
    config.set_override('transport_url', backends.RABBITMQ_URL)
    # A topic of its own: no other test run's manager answers these calls.
    config.set_override('rpc_topic', 'blazar.manager.test-%s' % uuid.uuid4().hex[:8],
                        group='manager')
    stack = fconf.Stack(simulator)
    yield stack.api
    stack.stop()


def test_lease_lifecycle_over_rabbitmq(rabbit_api):
    api = rabbit_api.as_user('alice:proj1')
    created = api.post('/v1/leases', lease_body())
    assert created.status_code == 201, created.text
    lease_id = created.json()['lease']['id']
    assert [item['id'] for item in api.get('/v1/leases').json()['leases']] == [lease_id]
    updated = api.put('/v1/leases/%s' % lease_id, {'name': 'renamed'})
    assert updated.json()['lease']['name'] == 'renamed'
    assert api.delete('/v1/leases/%s' % lease_id).status_code == 204


def test_an_owner_s_write_reaches_an_older_manager_over_rabbitmq(rabbit_api, monkeypatch):
    """Over the broker a 1.0 manager's refusal of a 1.1 call arrives as a
    RemoteError, not as the in-process transport's exception."""
    import oslo_messaging as messaging

    from blazar.manager import service
    monkeypatch.setattr(service.ManagerEndpoint, 'target',
                        messaging.Target(version='1.0'))
    api = rabbit_api.as_user('alice:proj1')
    lease_id = api.post('/v1/leases', lease_body()).json()['lease']['id']
    updated = api.put('/v1/leases/%s' % lease_id, {'name': 'renamed'})
    assert updated.status_code == 200, updated.text
    assert api.delete('/v1/leases/%s' % lease_id).status_code == 204


def test_manager_errors_keep_their_status_and_message_over_rabbitmq(rabbit_api):
    resp = rabbit_api.get('/v1/leases/%s' % uuid.uuid4())
    assert resp.status_code == 404
    assert resp.json()['error_message'].endswith('} not found')
    assert 'Traceback' not in resp.text
    resp = rabbit_api.post('/v1/leases', lease_body(start_date='2001-01-01 10:00'))
    assert resp.status_code == 400
    assert resp.json()['error_message'] == 'Start date must be later than current date'
    assert rabbit_api.post('/v1/os-hosts', {'name': 'compute-1'}).status_code == 201
    resp = rabbit_api.post('/v1/os-hosts', {'name': 'compute-1'})
    assert resp.status_code == 409
    assert resp.json()['error_message'] == 'Host compute-1 is already enrolled'


def test_no_manager_is_a_clear_503(config, sqlite_database, shared_stack):
    backends.require('rabbitmq')
    fconf.stop_shared_stack(shared_stack)
    config.set_override('transport_url', backends.RABBITMQ_URL)
    config.set_override('rpc_topic', 'blazar.manager.nobody-%s' % uuid.uuid4().hex[:8],
                        group='manager')
    config.set_override('rpc_response_timeout', 2)
    from blazar import rpc
    from blazar.api import app as api_app
    from blazar.api import controllers
    from blazar.utils import wsgi
    server = wsgi.Server(api_app.setup_app(), '127.0.0.1', 0).start()
    try:
        resp = fconf.Api(server.url).get('/v1/leases')
        assert resp.status_code == 503
        assert 'manager did not answer' in resp.json()['error_message']
    finally:
        server.stop()
        controllers.reset_manager()
        rpc.cleanup()

"""ExternalServiceFilter against a policy service on 127.0.0.1."""
import json
import logging

import pytest

from blazar import context as blazar_context
from blazar import exceptions
from blazar.enforcement.filters import external_service
from blazar.tests import policy_server
from blazar.tests.unit.enforcement.conftest import lease


@pytest.fixture
def server(opts):
    running = policy_server.PolicyServer().start()
    opts(external_service_base_endpoint=running.url + '/blazar/',
         external_service_token='tok', external_service_timeout=0.5,
         external_service_on_end_retry_delay=0.01)
    yield running
    running.stop()


@pytest.fixture
def check():
    return external_service.ExternalServiceFilter()


@pytest.fixture
def ctx():
    return blazar_context.RequestContext(user_id='u1', project_id='p1', roles=['member'],
                                         request_id='req-1')


def refusal(call, *args):
    with pytest.raises(exceptions.EnforcementRefused) as info:
        call(*args)
    assert info.value.code == 403
    assert info.value.kwargs['rule'] == 'external_service'
    return info.value.message


def test_204_allows_and_the_call_carries_the_lease(server, check, ctx):
    check.check_create(ctx, lease(1, 2, hosts=2))
    (call,) = server.calls_to('/blazar/check-create')
    assert call.headers['X-Auth-Token'] == 'tok'
    assert call.headers['Content-Type'] == 'application/json'
    context = call.body['context']
    assert (context['user_id'], context['project_id'], context['roles'],
            context['request_id']) == ('u1', 'p1', ['member'], 'req-1')
    assert {'auth_url', 'region_name', 'is_admin'} <= set(context)
    sent = call.body['lease']
    assert sent['start_date'] == '2030-01-01T13:00:00.000000'
    assert sent['usage'] == {'hosts': 2, 'vcpus': 16, 'memory_mb': 2048}
    assert [a['id'] for a in sent['reservations'][0]['allocations']] == ['0', '1']
    assert 'current_lease' not in call.body


def test_403_relays_the_message(server, check, ctx):
    server.answer('/blazar/check-create', (403, {'message': 'Out of credits'}))
    assert refusal(check.check_create, ctx, lease()) == 'Out of credits'
    server.answer('/blazar/check-create', (403, 'x' * 5000))
    assert refusal(check.check_create, ctx, lease()) == 'x' * 1000
    server.answer('/blazar/check-create', (403, {'error': 'no message key'}))
    assert refusal(check.check_create, ctx, lease()) == 'Refused by the usage policy service.'


@pytest.mark.parametrize('answer, problem', [
    ((500, None), 'it answered HTTP 500'),
    ((400, {'message': 'bad'}), 'it answered HTTP 400'),
    ((302, None), 'it answered HTTP 302'),
    ((204, None, 2), 'no answer within 0.5 seconds'),
])
def test_failures_refuse_with_a_generic_message(server, check, ctx, opts, caplog,
                                                answer, problem):
    server.answer('/blazar/check-create', answer)
    assert refusal(check.check_create, ctx, lease()) == (
        'The usage policy service could not check this lease (%s); please try '
        'again later.' % problem)
    opts(external_service_allow_on_failure=True)
    with caplog.at_level(logging.WARNING):
        check.check_create(ctx, lease())
    assert 'allowed by external_service_allow_on_failure' in caplog.text


def test_update_sends_both_versions(server, check, ctx):
    check.check_update(ctx, lease(1, 2), lease(1, 5, hosts=3))
    (call,) = server.calls_to('/blazar/check-update')
    assert call.body['current_lease']['end_date'] == '2030-01-01T14:00:00.000000'
    assert call.body['lease']['end_date'] == '2030-01-01T17:00:00.000000'
    assert call.body['lease']['usage']['hosts'] == 3
    server.answer('/blazar/check-update', (403, {'message': 'No'}))
    assert refusal(check.check_update, ctx, lease(1, 2), lease(1, 5)) == 'No'


def test_per_hook_urls_and_no_token(server, check, ctx, opts):
    opts(external_service_base_endpoint=None, external_service_token='',
         external_service_check_update_endpoint=server.url + '/upd')
    check.check_create(ctx, lease())          # no URL for it: skipped
    check.check_update(ctx, lease(), lease())
    check.on_end(ctx, lease())
    (call,) = server.calls
    assert call.path == '/upd' and 'X-Auth-Token' not in call.headers


def test_on_end_is_retried_then_given_up(server, check, opts, caplog):
    admin = blazar_context.get_admin_context()
    server.answer('/blazar/on-end', (500, None), (204, None))
    check.on_end(admin, lease(project='p9'))
    calls = server.calls_to('/blazar/on-end')
    assert len(calls) == 2
    # The service's own work is reported as the lease's owner.
    assert calls[0].body['context']['project_id'] == 'p9'
    server.answer('/blazar/on-end', (500, None))
    opts(external_service_on_end_attempts=3)
    with caplog.at_level(logging.WARNING):
        check.on_end(admin, lease())
    assert len(server.calls_to('/blazar/on-end')) == 5
    assert 'after 3 attempts' in caplog.text


def test_on_end_survives_an_unreachable_service(check, opts, caplog):
    dead = policy_server.PolicyServer()
    dead.stop()
    opts(external_service_on_end_endpoint=dead.url + '/end',
         external_service_on_end_attempts=2, external_service_on_end_retry_delay=0)
    with caplog.at_level(logging.WARNING):
        check.on_end(blazar_context.get_admin_context(), lease())
    assert 'Gave up' in caplog.text


def test_endpoint_resolution(opts):
    opts(external_service_base_endpoint='https://policy.example.com/v1')
    assert external_service.endpoint('check_create') == \
        'https://policy.example.com/v1/check-create'
    assert external_service.endpoint('on_end') == 'https://policy.example.com/v1/on-end'
    opts(external_service_on_end_endpoint='http://other/end')
    assert external_service.endpoint('on_end') == 'http://other/end'


def test_payload_is_json_with_iso_dates(server, check, ctx):
    check.check_create(ctx, lease())
    raw = json.dumps(server.calls[0].body)
    assert '2030-01-01T13:00:00' in raw

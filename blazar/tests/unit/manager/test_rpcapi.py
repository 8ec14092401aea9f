"""The API's handle on the manager: how a call's errors reach the API."""
from unittest import mock

import oslo_messaging as messaging
import pytest

from blazar import exceptions
from blazar.manager import rpcapi


@pytest.fixture
def manager_api():
    with mock.patch.object(rpcapi.rpc, 'get_client') as get_client:
        api = rpcapi.ManagerAPI()
        yield api, get_client.return_value.prepare.return_value


@pytest.mark.parametrize('refusal', [
    messaging.RemoteError('UnsupportedVersion', 'Endpoint does not support RPC version 1.1'),
    messaging.UnsupportedVersion('1.1', method='delete_lease')])
def test_a_manager_too_old_to_check_the_owner_leaves_the_check_to_the_api(
        manager_api, refusal):
    api, client = manager_api
    client.prepare.return_value.call.side_effect = refusal
    with pytest.raises(exceptions.OwnerNotConfirmed):
        api.as_owner({}, 'delete_lease', {'project_id': 'p', 'user_id': 'u'},
                     lease_id='l1')
    client.prepare.assert_called_with(version='1.1')


def test_other_remote_failures_are_the_manager_s(manager_api):
    api, client = manager_api
    client.prepare.return_value.call.side_effect = messaging.RemoteError(
        'KeyError', 'boom')
    with pytest.raises(exceptions.BlazarException, match='The manager failed: boom'):
        api.as_owner({}, 'delete_lease', {'project_id': 'p'}, lease_id='l1')
    client.call.side_effect = messaging.MessagingTimeout()
    with pytest.raises(exceptions.ManagerUnavailable):
        api.get_lease({}, lease_id='l1')


def test_calls_ask_the_old_version_unless_they_need_the_new_one():
    with mock.patch.object(rpcapi.rpc.messaging, 'get_rpc_client') as get_rpc_client, \
            mock.patch.object(rpcapi.rpc, 'get_transport'):
        rpcapi.ManagerAPI()
    assert get_rpc_client.call_args[0][1].version == '1.0'

"""What the manager's RPC methods let through: Blazar errors as expected
exceptions, database trouble as a clear message, never driver details."""
from oslo_db import exception as db_exc
import oslo_messaging as messaging
import pytest
from sqlalchemy import exc as sa_exc

from blazar import exceptions
from blazar.manager import service


def _raising(error):
    @service._rpc_method
    def method():
        raise error
    return method


def _expected(error):
    with pytest.raises(messaging.ExpectedException) as caught:
        _raising(error)()
    return caught.value.exc_info[1]


REFUSED = sa_exc.OperationalError(
    'SELECT 1', {}, Exception('connection to server at "127.0.0.1", port 5432 failed: '
                              'Connection refused'))


@pytest.mark.parametrize('error', [db_exc.DBConnectionError('gone'), REFUSED],
                         ids=['translated-by-oslo.db', 'untranslated-libpq-15'])
def test_a_database_that_is_down_is_a_503(error):
    sent = _expected(error)
    assert isinstance(sent, exceptions.DatabaseUnavailable)
    assert sent.code == 503
    assert 'Connection refused' not in str(sent)


def test_another_database_error_is_a_500_without_details():
    sent = _expected(db_exc.DBError('syntax error at or near'))
    assert type(sent) is exceptions.BlazarException
    assert str(sent) == 'A database error occurred'


def test_a_blazar_error_goes_as_it_is():
    sent = _expected(exceptions.LeaseNotFound(id='l1'))
    assert isinstance(sent, exceptions.LeaseNotFound)

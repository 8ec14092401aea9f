"""When a lease holds a Keystone trust (Keystone itself is replaced by a
recorder here; blazar/tests/integration/keystone runs the real one)."""
import datetime

from keystoneauth1 import loading as ks_loading
import pytest

from blazar import context as blazar_context
from blazar import deferred
from blazar import exceptions
from blazar.clients import keystone
from blazar.db import api as db_api
from blazar.manager import leases
from blazar.plugins import base


def _ctx(roles=('member', 'reader')):
    return blazar_context.RequestContext(user_id='u1', project_id='p1',
                                         roles=list(roles), auth_token='tok')


def _later(**delta):
    return (datetime.datetime.utcnow() + datetime.timedelta(**delta)).strftime(
        '%Y-%m-%d %H:%M')


class FakeKeystone:
    """Stands in for blazar.clients.keystone's calls, recording them."""

    def __init__(self, monkeypatch, unusable=False, undeletable=False):
        self.calls = []
        self.unusable, self.undeletable = unusable, undeletable
        self.refused = set()          # trusts Keystone no longer accepts
        self.on_reuse = None          # runs when a shared trust is checked
        for name in ('create_trust', 'check_trust', 'delete_trust', 'remove_trust',
                     'trust_still_usable'):
            monkeypatch.setattr(keystone, name, getattr(self, name))

    def create_trust(self, context):
        self.calls.append(('create', context.user_id, context.auth_token))
        return 'trust-%d' % len(self.calls)

    def check_trust(self, trust_id):
        self.calls.append(('check', trust_id))
        if self.unusable:
            raise exceptions.TrustNotUsable(trust_id=trust_id, reason='no')

    def trust_still_usable(self, trust_id):
        self.calls.append(('usable', trust_id))
        if self.on_reuse is not None:
            self.on_reuse()
        return trust_id not in self.refused

    def delete_trust(self, trust_id):
        self.calls.append(('delete', trust_id))
        return not self.undeletable

    def remove_trust(self, trust_id):
        """As the deferred call sees it: Keystone unavailable raises."""
        self.calls.append(('delete', trust_id))
        if self.undeletable:
            raise exceptions.IdentityUnavailable(reason='down')
        return True


class RefusingPlugin(base.ResourcePlugin):
    """A resource type that never has enough."""
    resource_type = 'refusing'

    def validate_reservation(self, values):
        return values

    def reserve(self, context, lease, reservation_id, values, row_id):
        raise exceptions.NotEnoughResources(reason='none left')

    update_reservation = intent_spec = plan = reservation_fields = None


@pytest.fixture
def service(sqlite_database):
    return leases.LeaseService({'refusing': RefusingPlugin()})


@pytest.fixture
def with_keystone(config):
    config.set_override('auth_strategy', 'keystone')


def _create(service, name='l1', start=None, ctx=None, **extra):
    return service.create(ctx or _ctx(), dict(
        {'name': name, 'start_date': start or _later(days=1),
         'end_date': _later(days=2)}, **extra))


def test_with_noauth_a_lease_holds_no_trust(service, monkeypatch):
    fake = FakeKeystone(monkeypatch)
    lease = _create(service)
    assert lease['trust_id'] is None
    service.delete(_ctx(), lease['id'])
    assert fake.calls == []


def test_with_keystone_a_lease_holds_a_checked_trust_made_with_the_caller_s_token(
        service, monkeypatch, with_keystone):
    fake = FakeKeystone(monkeypatch)
    lease = _create(service)
    assert lease['trust_id'] == 'trust-1'
    assert db_api.lease_get(_ctx(), lease['id'])['trust_id'] == 'trust-1'
    assert fake.calls == [('create', 'u1', 'tok'), ('check', 'trust-1')]


def test_an_unusable_trust_is_deleted_and_no_lease_is_stored(service, monkeypatch,
                                                             with_keystone):
    fake = FakeKeystone(monkeypatch, unusable=True)
    with pytest.raises(exceptions.TrustNotUsable):
        _create(service)
    assert db_api.lease_list(_ctx()) == []
    assert fake.calls[-1] == ('delete', 'trust-1')


def test_a_lease_refused_after_its_trust_was_made_deletes_the_trust(
        service, monkeypatch, with_keystone):
    fake = FakeKeystone(monkeypatch)
    with pytest.raises(exceptions.NotEnoughResources):
        _create(service, reservations=[{'resource_type': 'refusing'}])
    assert db_api.lease_list(_ctx()) == []
    assert fake.calls == [('create', 'u1', 'tok'), ('check', 'trust-1'),
                          ('delete', 'trust-1')]


def _deferred_calls_made():
    """Make the calls deferred past the commits (a manager's worker would)."""
    ctx = blazar_context.get_admin_context()
    deferred.run(ctx, [c['id'] for c in db_api.deferred_calls_due(ctx, db_api.utcnow())])


def test_deleting_a_lease_deletes_its_trust_after_the_commit(service, monkeypatch,
                                                             with_keystone):
    fake = FakeKeystone(monkeypatch)
    lease = _create(service)
    service.delete(_ctx(), lease['id'])
    assert ('delete', 'trust-1') not in fake.calls    # the answer did not wait for it
    _deferred_calls_made()
    assert fake.calls[-1] == ('delete', 'trust-1')


def _apply(service, lease_id, event_type):
    ctx = blazar_context.get_admin_context()
    event, = [e for e in db_api.lease_get(ctx, lease_id)['events']
              if e['event_type'] == event_type]
    assert service.apply_event(ctx, event)
    return db_api.lease_get(ctx, lease_id)


@pytest.mark.parametrize('deletable', [True, False])
def test_the_trust_is_deleted_after_the_end_and_forgotten_once_gone(
        service, monkeypatch, with_keystone, deletable):
    fake = FakeKeystone(monkeypatch, undeletable=not deletable)
    lease = _create(service, start='now')
    started = _apply(service, lease['id'], 'start_lease')
    assert (started['status'], started['trust_id']) == ('ACTIVE', 'trust-1')
    assert ('delete', 'trust-1') not in fake.calls
    ended = _apply(service, lease['id'], 'end_lease')
    assert ended['status'] == 'TERMINATED'
    _deferred_calls_made()
    assert fake.calls[-1] == ('delete', 'trust-1')
    ended = db_api.lease_get(blazar_context.get_admin_context(), lease['id'])
    # Kept while Keystone could not delete it: the deferred call is retried.
    assert ended['trust_id'] == (None if deletable else 'trust-1')
    pending = db_api.deferred_calls_due(blazar_context.get_admin_context(),
                                        db_api.utcnow() + datetime.timedelta(days=1))
    assert len(pending) == (0 if deletable else 1)


def test_keystone_client_refuses_without_a_token_or_a_trustee(config):
    config.set_override('auth_strategy', 'keystone')
    assert keystone.enabled()
    ctx = _ctx()
    ctx.auth_token = None
    with pytest.raises(exceptions.TrustNotCreated, match='carries no Keystone token'):
        keystone.create_trust(ctx)
    keystone.reset_client()
    with pytest.raises(exceptions.IdentityError, match=r'\[trustee\] auth_type is not set'):
        keystone.create_trust(_ctx())
    assert keystone.delete_trust('t1') is False
    config.set_override('auth_strategy', 'noauth')
    assert not keystone.enabled()


@pytest.fixture
def trustee_opts(config):
    """The password plugin's [trustee] options, unregistered after the test
    (auth_url is required: left registered, later configurations fail)."""
    opts = ks_loading.get_auth_plugin_conf_options('password')
    config.register_opts(opts, group='trustee')
    yield config
    keystone.reset_client()
    config.reset()
    config.unregister_opts(opts, group='trustee')


def test_upgrade_check_of_the_trustee(config, trustee_opts):
    from blazar.cmd import status
    assert status.check_trustee().code == status.SUCCESS   # noauth
    config.set_override('auth_strategy', 'keystone')
    result = status.check_trustee()
    assert result.code == status.FAILURE
    assert '[trustee] auth_type is not set' in result.details
    for key, value in {'auth_type': 'password', 'auth_url': 'http://127.0.0.1:9/v3',
                       'username': 'blazar', 'password': 'x',
                       'user_domain_name': 'Default'}.items():
        config.set_override(key, value, group='trustee')
    keystone.reset_client()
    result = status.check_trustee()
    assert result.code == status.WARNING
    assert 'Identity service (Keystone) is unavailable' in result.details


# --- shared trusts ---------------------------------------------------------------
def _pending_deletions():
    ctx = blazar_context.get_admin_context()
    return [c for c in db_api.deferred_calls_due(
        ctx, db_api.utcnow() + datetime.timedelta(days=1))]


def test_leases_of_one_owner_project_and_roles_share_one_trust(service, monkeypatch,
                                                                with_keystone):
    fake = FakeKeystone(monkeypatch)
    first, second = _create(service, 'a'), _create(service, 'b')
    assert first['trust_id'] == second['trust_id'] == 'trust-1'
    # The second create asked Keystone only whether the trust still works.
    assert fake.calls == [('create', 'u1', 'tok'), ('check', 'trust-1'),
                          ('usable', 'trust-1')]


def test_other_roles_get_a_trust_of_their_own(service, monkeypatch, with_keystone):
    fake = FakeKeystone(monkeypatch)
    member = _create(service, 'a')
    admin = _create(service, 'b', ctx=_ctx(roles=('admin', 'member', 'reader')))
    assert member['trust_id'] != admin['trust_id']
    # The same roles in another order are the same roles.
    assert _create(service, 'c', ctx=_ctx(roles=('reader', 'member')))['trust_id'] == \
        member['trust_id']
    assert [c[0] for c in fake.calls].count('create') == 2


def test_sharing_off_gives_each_lease_its_own_trust(service, monkeypatch, with_keystone,
                                                     config):
    config.set_override('share_trusts', False, group='trustee')
    fake = FakeKeystone(monkeypatch)
    assert _create(service, 'a')['trust_id'] != _create(service, 'b')['trust_id']
    assert 'usable' not in [c[0] for c in fake.calls]


def test_a_shared_trust_keystone_refuses_is_not_shared_again(service, monkeypatch,
                                                             with_keystone):
    fake = FakeKeystone(monkeypatch)
    first = _create(service, 'a')
    fake.refused.add(first['trust_id'])
    second = _create(service, 'b')
    assert second['trust_id'] == 'trust-4'     # made after create, check, usable
    assert _create(service, 'c')['trust_id'] == second['trust_id']
    # The refused trust stays with the lease holding it, to go with it.
    assert db_api.lease_get(_ctx(), first['id'])['trust_id'] == first['trust_id']


def test_a_shared_trust_is_deleted_with_its_last_lease_only(service, monkeypatch,
                                                            with_keystone):
    fake = FakeKeystone(monkeypatch)
    first, second = _create(service, 'a'), _create(service, 'b')
    service.delete(_ctx(), first['id'])
    _deferred_calls_made()
    assert ('delete', 'trust-1') not in fake.calls
    assert db_api.lease_get(_ctx(), second['id'])['trust_id'] == 'trust-1'
    service.delete(_ctx(), second['id'])
    _deferred_calls_made()
    assert fake.calls[-1] == ('delete', 'trust-1')
    # A later lease gets a new trust: the deleted one is not offered.
    assert _create(service, 'c')['trust_id'] != 'trust-1'


def test_an_ended_lease_lets_go_of_a_shared_trust_without_deleting_it(
        service, monkeypatch, with_keystone):
    fake = FakeKeystone(monkeypatch)
    now = _create(service, 'now', start='now')
    later = _create(service, 'later')
    _apply(service, now['id'], 'start_lease')
    ended = _apply(service, now['id'], 'end_lease')
    assert (ended['status'], ended['trust_id']) == ('TERMINATED', None)
    assert _pending_deletions() == []
    assert db_api.lease_get(_ctx(), later['id'])['trust_id'] == 'trust-1'
    service.delete(_ctx(), later['id'])
    _deferred_calls_made()
    assert fake.calls[-1] == ('delete', 'trust-1')


def test_a_create_whose_shared_trust_was_let_go_before_its_commit_makes_its_own(
        service, monkeypatch, with_keystone):
    """The last lease holding the trust is deleted after the create chose
    the trust and before it took the allocation lock."""
    fake = FakeKeystone(monkeypatch)
    first = _create(service, 'a')
    fake.on_reuse = lambda: service.delete(_ctx(), first['id'])
    second = _create(service, 'b')
    assert second['trust_id'] not in (None, first['trust_id'])
    assert db_api.lease_get(_ctx(), second['id'])['trust_id'] == second['trust_id']
    _deferred_calls_made()
    assert ('delete', first['trust_id']) in fake.calls
    assert ('delete', second['trust_id']) not in fake.calls

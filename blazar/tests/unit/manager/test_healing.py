"""Healing decisions: which reservations a pass looks at, what one healing
does to the flags, and the monitors' transitions (store on every backend,
plugins stubbed)."""
import datetime

from oslo_utils import timeutils
import pytest

from blazar import context as blazar_context
from blazar.db import api as db_api
from blazar.manager import healing
from blazar.manager import lifecycle
from blazar.manager import monitors
from blazar.plugins import base
from blazar.plugins.hosts import health

T0 = datetime.datetime(2030, 1, 1, 10, 0)
HOUR = datetime.timedelta(hours=1)


# --- pure decisions -------------------------------------------------------------

def _row(res, host, start, end, lease='l'):
    return {'reservation_id': res, 'lease_id': lease, 'compute_host_id': host,
            'start_date': start, 'end_date': end}


def test_affected_reservations_hold_a_lost_host_within_the_window():
    rows = [_row('now', 1, T0 - HOUR, T0 + HOUR),          # active on failed host
            _row('soon', 1, T0 + HOUR / 2, T0 + HOUR),     # starts within the hour
            _row('later', 1, T0 + 2 * HOUR, T0 + 3 * HOUR),  # outside the window
            _row('before', 2, T0, T0 + HOUR / 2),          # ends as maintenance starts
            _row('across', 2, T0, T0 + 3 * HOUR),          # runs into it
            _row('healthy', 3, T0, T0 + HOUR)]
    since = {1: T0, 2: T0 + HOUR / 2}
    assert set(healing.affected(rows, since, T0 + HOUR)) == {'now', 'soon', 'across'}
    assert set(healing.affected(rows, since, None)) == {'now', 'soon', 'later', 'across'}
    # A maintenance beyond the window waits for a later pass.
    assert healing.affected(rows, {2: T0 + 2 * HOUR}, T0 + HOUR) == {}


@pytest.mark.parametrize('missing, was_missing, removed, event', [
    (False, False, [], None),                     # nothing to do
    (False, False, [1], 'reservation.healed'),    # replaced at once
    (True, False, [], 'reservation.degraded'),    # no replacement
    (True, True, [], None),                       # still waiting: no repeat
    (True, True, [1], None),                      # partly replaced: still degraded
    (False, True, [], 'reservation.healed'),      # its host came back
    (False, True, [1], 'reservation.healed'),     # a replacement appeared
])
def test_outcome_notification(missing, was_missing, removed, event):
    outcome = healing.Outcome('r', removed=removed, missing=missing,
                              was_missing=was_missing)
    assert outcome.event == event


def test_failure_wording_is_the_same_for_both_monitors():
    assert monitors.service_failure() is None
    assert monitors.service_failure(down=True) == 'nova-compute is down (not reporting)'
    assert monitors.service_failure(disabled=True, disabled_reason='disk', down=True) \
        == 'nova-compute is disabled: disk'
    assert monitors.service_failure(disabled=True) == 'nova-compute is disabled'
    assert monitors.service_failure(forced_down=True, disabled=True, down=True) \
        == 'nova-compute is forced down'


def test_host_state_and_lost_since():
    healthy = {'failure_reason': None, 'maintenance_start': None,
               'maintenance_reason': None}
    assert health.lost_since(healthy, T0) is None
    assert health.describe(healthy, T0)['state'] == 'available'
    failed = dict(healthy, failure_reason='nova-compute is down (not reporting)')
    assert health.lost_since(failed, T0) == T0
    assert (health.describe(failed, T0)['state'],
            health.describe(failed, T0)['state_reason']) == (
        'failed', 'nova-compute is down (not reporting)')
    planned = dict(failed, maintenance_start=T0 + HOUR, maintenance_reason='fw')
    assert health.lost_since(dict(planned, failure_reason=None), T0) == T0 + HOUR
    assert health.describe(planned, T0)['state'] == 'failed'
    assert (health.describe(planned, T0 + HOUR)['state'],
            health.describe(planned, T0 + HOUR)['state_reason']) == ('maintenance', 'fw')


# --- one reservation against the store ------------------------------------------

@pytest.fixture
def ctx(database, notifications):
    return blazar_context.get_admin_context()


def _host(ctx, name):
    return db_api.host_create(ctx, {
        'hypervisor_hostname': name, 'service_name': 'svc-' + name, 'vcpus': 4,
        'memory_mb': 1024, 'local_gb': 10, 'reservable': True}, {},
        'physical:host')['id']


def _reservation(ctx, lease_id, hosts, start, end, status='pending'):
    db_api.lease_create(ctx, {'id': lease_id, 'name': lease_id, 'project_id': 'p',
                              'user_id': 'u', 'start_date': start, 'end_date': end,
                              'status': 'PENDING', 'degraded': False})
    res = db_api.reservation_create(ctx, {
        'lease_id': lease_id, 'resource_type': 'stub', 'status': status,
        'missing_resources': False, 'resources_changed': False})
    db_api.allocations_create(ctx, res['id'], hosts, start, end)
    return res['id']


class Replacing(base.ResourcePlugin):
    """Moves lost hosts to the spares it is given, as a plugin must."""
    resource_type = 'stub'
    validate_reservation = reserve = update_reservation = None
    plan = reservation_fields = None

    def __init__(self, spares=()):
        self.spares = list(spares)
        self.calls = []

    def intent_spec(self, context, lease, reservation, phase):
        return {'hosts': db_api.reservation_host_ids(context, reservation['id'])}

    def heal(self, context, lease, reservation, lost_host_ids):
        self.calls.append(list(lost_host_ids))
        moved = list(zip(lost_host_ids, self.spares, strict=False))
        self.spares = self.spares[len(moved):]
        db_api.allocations_delete(context, reservation['id'], [o for o, _ in moved])
        db_api.allocations_create(context, reservation['id'], [n for _, n in moved],
                                  lease['start_date'], lease['end_date'])
        return len(moved) == len(lost_host_ids)


Replacing.__abstractmethods__ = frozenset()


def _fail(ctx, host_id, reason='nova-compute is down (not reporting)'):
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        return db_api.hosts_mark_failed(ctx, {host_id: reason}, timeutils.utcnow())


def _flags(ctx, lease_id):
    lease = db_api.lease_get(ctx, lease_id)
    return lease['reservations'][0]['missing_resources'], lease['degraded']


def _events(notifications):
    return [kind for kind, _ in notifications() if kind.startswith('reservation.')]


def test_a_replacement_leaves_no_flag(ctx, notifications):
    start = timeutils.utcnow() + HOUR
    lost, spare = _host(ctx, 'h1'), _host(ctx, 'h2')
    res = _reservation(ctx, 'l1', [lost], start, start + HOUR)
    plugin = Replacing([spare])
    _fail(ctx, lost)
    outcomes = healing.Healer({'stub': plugin}).heal(ctx, horizon=None)
    assert [(o.removed, o.added, o.missing) for o in outcomes] == [([lost], [spare], False)]
    assert db_api.reservation_host_ids(ctx, res) == [spare]
    assert _flags(ctx, 'l1') == (False, False)
    assert _events(notifications) == ['reservation.healed']
    # Safe to repeat: nothing left to do.
    assert healing.Healer({'stub': plugin}).heal(ctx, horizon=None) == []
    assert plugin.calls == [[lost]]


def test_no_replacement_flags_until_the_host_recovers(ctx, notifications):
    start = timeutils.utcnow() - HOUR
    lost, kept = _host(ctx, 'h1'), _host(ctx, 'h2')
    res = _reservation(ctx, 'l1', [lost, kept], start, start + 3 * HOUR, 'active')
    healer = healing.Healer({'stub': Replacing()})
    _fail(ctx, lost)
    healer.heal(ctx)
    assert _flags(ctx, 'l1') == (True, True)
    assert sorted(db_api.reservation_host_ids(ctx, res)) == sorted([lost, kept])
    healer.heal(ctx)                    # still missing: not told twice
    assert _events(notifications) == ['reservation.degraded']
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        assert db_api.hosts_mark_recovered(ctx, [lost], timeutils.utcnow()) == [lost]
    (outcome,) = healer.heal(ctx)       # flagged reservations are looked at again
    assert (outcome.removed, outcome.missing) == ([], False)
    assert _flags(ctx, 'l1') == (False, False)
    assert _events(notifications) == ['reservation.degraded', 'reservation.healed']


def test_without_a_heal_hook_the_reservation_is_flagged(ctx):
    start = timeutils.utcnow() + HOUR
    lost = _host(ctx, 'h1')

    class NoHook(Replacing):
        heal = base.ResourcePlugin.heal

    _reservation(ctx, 'l1', [lost], start, start + HOUR)
    _fail(ctx, lost)
    healing.Healer({'stub': NoHook()}).heal(ctx, horizon=None)
    assert _flags(ctx, 'l1') == (True, True)


def test_healing_changes_the_reservation_s_intent_for_the_converger(ctx):
    """The store changes under the lock; the converger moves Nova after."""
    start = timeutils.utcnow() - HOUR
    lost, spare = _host(ctx, 'h1'), _host(ctx, 'h2')
    res = _reservation(ctx, 'l1', [lost], start, start + 3 * HOUR, 'active')
    plugins = {'stub': Replacing([spare])}
    life = lifecycle.Lifecycle(plugins, view=lambda lease: lease)
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        lease = db_api.lease_get(ctx, 'l1')
        life.refresh(ctx, lease, lease['reservations'][0], 'active')
    before = db_api.intent_get(ctx, res)
    _fail(ctx, lost)
    healing.Healer(plugins, life).heal(ctx)
    after = db_api.intent_get(ctx, res)
    assert (before['spec'], after['spec']) == ({'hosts': [lost]}, {'hosts': [spare]})
    assert after['generation'] == before['generation'] + 1
    assert after['phase'] == 'active' and after['due_at'] is not None


def test_only_reservations_within_the_horizon(ctx):
    now = timeutils.utcnow()
    lost, spare = _host(ctx, 'h1'), _host(ctx, 'h2')
    near = _reservation(ctx, 'near', [lost], now + HOUR / 2, now + HOUR)
    far = _reservation(ctx, 'far', [lost], now + 2 * HOUR, now + 3 * HOUR)
    _fail(ctx, lost)
    healing.Healer({'stub': Replacing([spare, spare])}).heal(ctx, horizon=now + HOUR)
    assert db_api.reservation_host_ids(ctx, near) == [spare]
    assert db_api.reservation_host_ids(ctx, far) == [lost]
    assert _flags(ctx, 'far') == (False, False)


def test_a_maintenance_that_has_come_makes_the_host_unreservable(ctx):
    now = timeutils.utcnow().replace(second=0, microsecond=0)
    host = _host(ctx, 'h1')
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        db_api.host_set_maintenance(ctx, host, now + HOUR, 'fw', now)
    assert db_api.host_get(ctx, host)['reservable'] is True
    assert db_api.maintenance_busy(ctx) == {host: [(now + HOUR, db_api.MAINTENANCE_END)]}
    assert db_api.busy_with_maintenance(ctx, now) == db_api.maintenance_busy(ctx)
    assert db_api.next_maintenance_start(ctx, now) == now + HOUR
    healing.Healer({}).heal(ctx, now=now + 2 * HOUR)
    assert db_api.host_get(ctx, host)['reservable'] is False
    _fail(ctx, host)
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        assert db_api.host_clear_maintenance(ctx, host, now)
    assert db_api.host_get(ctx, host)['reservable'] is False   # still failed
    with db_api.transaction(ctx):
        db_api.allocation_lock(ctx)
        db_api.hosts_mark_recovered(ctx, [host], now)
    assert db_api.host_get(ctx, host)['reservable'] is True


# --- monitors' transitions --------------------------------------------------------

def test_transitions_happen_once_whoever_reports_them(ctx, notifications):
    h1, h2 = _host(ctx, 'h1'), _host(ctx, 'h2')
    changes = []
    report = monitors.HostHealth(on_change=lambda: changes.append(1)).report
    down = 'nova-compute is down (not reporting)'
    assert report(ctx, {'svc-h1': down, 'svc-h2': None, 'unknown': down}) == ([h1], [])
    assert report(ctx, {'svc-h1': down}) == ([], [])          # the other monitor
    assert report(ctx, {'svc-h1': 'nova-compute is disabled'}) == ([], [])
    assert db_api.host_get(ctx, h1)['failure_reason'] == 'nova-compute is disabled'
    assert report(ctx, {'svc-h1': None}) == ([], [h1])
    assert report(ctx, {'svc-h1': None}) == ([], [])
    assert changes == [1, 1]
    assert [kind for kind, _ in notifications() if kind.startswith('host.')] == \
        ['host.failed', 'host.recovered']
    assert db_api.host_get(ctx, h2)['reservable'] is True


class _Wakes:
    def __init__(self):
        self.count = 0

    def wake(self):
        self.count += 1


def test_a_lease_change_wakes_healing_only_while_something_may_need_it(ctx):
    """A busy manager ran a healing pass (three queries) after every lease
    write although no host was lost; a pass that found nothing makes lease
    changes skip it, and a lost host makes them count again."""
    start = timeutils.utcnow() + HOUR
    lost = _host(ctx, 'h1')
    _reservation(ctx, 'l1', [lost], start, start + HOUR)
    healer = healing.Healer({'stub': Replacing()})
    worker = healing.HealingWorker(healer)
    worker._worker = wakes = _Wakes()
    worker.notice_lease_change()
    assert wakes.count == 1                 # nothing known yet
    healer.heal(ctx)
    worker.notice_lease_change()
    assert wakes.count == 1                 # the pass found nothing
    worker.request()
    assert wakes.count == 2                 # a monitor's request always counts
    _fail(ctx, lost)
    healer.heal(ctx)
    worker.notice_lease_change()
    assert wakes.count == 3                 # a lost host: changes count again

"""An upstream OpenStack Blazar 18 deployment's database, converted in place.

Upstream Blazar 18.0.0 (installed from the package index into a virtualenv
of its own, blazar/tests/upstream_fixture.py) makes its schema on MariaDB
and PostgreSQL with its own ``blazar-db-manage upgrade head``; the test
fills it with rows shaped as upstream writes them (leases that ended, run
and wait; host, instance and flavor reservations; events; hosts with extra
capabilities, resource properties, inventories and traits; allocations;
floating IPs, carried on by this service's floating-IP plugin), and the
simulated Nova holds what upstream made there
(freepool, reservation aggregates, flavors, resource classes). This
service's ``blazar-db-manage upgrade head`` converts it; everything is then
checked through this service's API, and the running lease ends on time
while the waiting one starts on time.
"""
import datetime
import json
import os
import subprocess
import sys
import time
import uuid

from oslo_config import cfg
import pytest
import sqlalchemy as sa

from blazar.db import api as db_api
from blazar.db import migration
from blazar.simulator import state as sim_state
from blazar.simulator import testing as sim_testing
from blazar.tests import backends
from blazar.tests import upstream_fixture
from blazar.tests.functional import conftest as functional
from blazar.tests.functional.conftest import settled

CONF = cfg.CONF
BIN = os.path.dirname(sys.executable)
PROJECT, USER = 'proj1', 'alice'
# Seconds from the filling of the database to the end of the running lease
# and the start of the waiting one. Before the converted service starts, its
# dates move by the time the conversion and its checks took (``_as_if_now``),
# so these leave room for the service's start-up and the checks of what the
# running lease holds, however loaded the machine is.
END_IN, START_IN = 30, 35
# The date columns of the converted schema that say when a lease holds
# what (creation and update stamps are history and stay).
WINDOW_COLUMNS = ('start_date', 'end_date', 'time')
ON_TIME = 15   # seconds an event may be late (the loop's wake-up and the work)


@pytest.fixture(scope='session')
def upstream_bin():
    try:
        return upstream_fixture.ensure_venv()
    except upstream_fixture.Unavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(params=['mariadb', 'postgresql'])
def upstream_db(request, tmp_path_factory, tmp_path, upstream_bin):
    database = backends.Database(request.param, tmp_path_factory)
    try:
        upstream_fixture.create_schema(upstream_bin, database.url, tmp_path)
        yield database
    finally:
        db_api.reset_facade()
        database.drop()


def _uuid():
    return str(uuid.uuid4())


class Upstream:
    """Rows written as upstream Blazar 18 writes them."""

    def __init__(self, url, now):
        self.engine = sa.create_engine(url)
        self.metadata = sa.MetaData()
        self.metadata.reflect(bind=self.engine)
        self.now = now
        self.rows = {}

    def add(self, table, **values):
        values.setdefault('id', _uuid())
        values.setdefault('created_at', self.now - datetime.timedelta(days=3))
        with self.engine.begin() as conn:
            conn.execute(self.metadata.tables[table].insert(), [values])
        self.rows.setdefault(table, []).append(values)
        return values

    def table(self, name):
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(self.metadata.tables[name]).order_by('id'))]


def _upstream_flavor_json(flavor_id):
    """What upstream's flavor plugin stores: python-novaclient's flavor
    dict (without links) and its extra specs, as JSON."""
    return json.dumps({
        'id': flavor_id, 'name': 'm1.upstream', 'ram': 4096, 'disk': 20,
        'swap': '', 'OS-FLV-EXT-DATA:ephemeral': 5, 'OS-FLV-DISABLED:disabled': False,
        'vcpus': 2, 'os-flavor-access:is_public': True, 'rxtx_factor': 1.0,
        'extra_specs': {'trait:CUSTOM_FAST': 'required', 'hw:cpu_policy': 'dedicated'}})


def fill(up, cloud):
    """An upstream deployment: six hosts, four leases; returns the ids and
    the times tests check against."""
    now = up.now
    hyps = {h.hypervisor_hostname: h for h in cloud.hypervisors}
    freepool = cloud.create_aggregate('freepool')
    placement = cloud.placement
    hosts = {}
    for index in range(1, 7):
        name = 'compute-%d' % index
        hyp = hyps[name]
        # Enrolled with upstream's default compute API (2.1): the legacy
        # integer hypervisor id.
        hosts[name] = up.add(
            'computehosts', id=str(hyp.int_id), vcpus=hyp.vcpus,
            cpu_info=str(hyp.cpu_info), hypervisor_type=hyp.hypervisor_type,
            hypervisor_version=hyp.hypervisor_version, hypervisor_hostname=name,
            service_name=hyp.service_host, memory_mb=hyp.memory_mb,
            local_gb=hyp.local_gb, status=None, trust_id=_uuid(),
            reservable=index != 6, availability_zone='nova')
        cloud.aggregate_add_host(freepool['id'], hyp.service_host)
        placement.create_provider('blazar_' + name, parent_uuid=hyp.id)
    gpu = up.add('resource_properties', resource_type='physical:host',
                 property_name='gpu', private=False)
    rack = up.add('resource_properties', resource_type='physical:host',
                  property_name='rack', private=True)
    for host, prop, value in (('compute-1', gpu, 'a100'), ('compute-2', gpu, 'v100'),
                              ('compute-2', rack, 'r2')):
        up.add('computehost_extra_capabilities', computehost_id=hosts[host]['id'],
               property_id=prop['id'], capability_value=value)
    for rc, total in (('VCPU', 8), ('MEMORY_MB', 65536), ('DISK_GB', 1000), ('PCPU', 8)):
        up.add('computehost_resource_inventory', computehost_id=hosts['compute-4']['id'],
               resource_class=rc, total=total, reserved=0, min_unit=1, max_unit=total,
               step_size=1, allocation_ratio=1.0)
    up.add('computehost_trait', computehost_id=hosts['compute-4']['id'], trait='CUSTOM_FAST')

    def lease(name, status, start, end, events, lease_id=None):
        lease = up.add('leases', id=lease_id or _uuid(), name=name, user_id=USER,
                       project_id=PROJECT, start_date=start, end_date=end,
                       trust_id=_uuid(), status=status, degraded=False)
        for event_type, time_, event_status in events:
            up.add('events', lease_id=lease['id'], event_type=event_type, time=time_,
                   status=event_status)
        return lease

    def reservation(lease, resource_type, status):
        return up.add('reservations', lease_id=lease['id'], resource_type=resource_type,
                      status=status, missing_resources=False, resources_changed=False)

    def host_reservation(lease, status, count_range, hosts_held, aggregate=None):
        """``aggregate``: None (the lease ended), 'empty' (pending) or
        'hosts' (active: the hosts moved into it from the freepool)."""
        res = reservation(lease, 'physical:host', status)
        aggregate_id = None
        if aggregate is not None:
            aggregate_id = reservation_aggregate(
                res['id'], members=hosts_held if aggregate == 'hosts' else ())['id']
        row = up.add('computehost_reservations', reservation_id=res['id'],
                     resource_properties='', count_range=count_range,
                     hypervisor_properties='[">=", "$vcpus", "4"]',
                     aggregate_id=aggregate_id, before_end='default')
        with up.engine.begin() as conn:
            conn.execute(sa.text('UPDATE reservations SET resource_id = :r WHERE id = :i'),
                         {'r': row['id'], 'i': res['id']})
        for host in hosts_held:
            up.add('computehost_allocations', compute_host_id=hosts[host]['id'],
                   reservation_id=res['id'])
        return res['id']

    def instance_reservation(lease, resource_type, status, slots, aggregate_id, **values):
        res = reservation(lease, resource_type, status)
        row = up.add('instance_reservations', reservation_id=res['id'],
                     flavor_id=res['id'], aggregate_id=aggregate_id,
                     server_group_id=None, **values)
        with up.engine.begin() as conn:
            conn.execute(sa.text('UPDATE reservations SET resource_id = :r WHERE id = :i'),
                         {'r': row['id'], 'i': res['id']})
        for host in slots:   # one row per instance slot
            up.add('computehost_allocations', compute_host_id=hosts[host]['id'],
                   reservation_id=res['id'])
        return res

    def reservation_aggregate(res_id, zone=True, members=(), instance=False):
        agg = cloud.create_aggregate(res_id, availability_zone='blazar_' + res_id
                                     if zone else None)
        metadata = {'blazar:owner': PROJECT}
        if instance:
            metadata.update(reservation=res_id, filter_tenant_id=PROJECT)
        cloud.aggregate_set_metadata(agg['id'], metadata)
        for host in members:
            if zone:   # a host reservation takes its hosts out of the freepool
                cloud.aggregate_remove_host(freepool['id'], host)
            cloud.aggregate_add_host(agg['id'], host)
        return agg

    def reservation_flavor(res_id, vcpus, ram, disk, access):
        cloud.create_flavor('reservation:' + res_id, ram, vcpus, disk, flavor_id=res_id,
                            is_public=False)
        rc = 'CUSTOM_RESERVATION_' + res_id.upper().replace('-', '_')
        cloud.set_extra_specs(res_id, {
            'aggregate_instance_extra_specs:reservation': res_id, 'resources:%s' % rc: '1'})
        if access:
            cloud.add_flavor_access(res_id, PROJECT)
        placement.create_resource_class(rc)
        return rc

    day, hour = datetime.timedelta(days=1), datetime.timedelta(hours=1)

    # Ended a day ago: everything deleted but its floating IP's rows.
    ended = lease('ended', 'TERMINATED', now - 2 * day, now - day, [
        ('start_lease', now - 2 * day, 'DONE'), ('end_lease', now - day, 'DONE'),
        ('before_end_lease', now - day - hour, 'DONE')])
    host_reservation(ended, 'deleted', '1-1', [])
    instance_reservation(ended, 'virtual:instance', 'deleted', [], None, vcpus=1,
                         memory_mb=512, disk_gb=5, amount=1, affinity=None,
                         resource_properties='')
    fip_res = reservation(ended, 'virtual:floatingip', 'deleted')
    network = _uuid()
    fip = up.add('floatingips', floating_network_id=network, subnet_id=_uuid(),
                 floating_ip_address='172.24.4.100', reservable=True)
    fip_row = up.add('floatingip_reservations', reservation_id=fip_res['id'],
                     network_id=network, amount=1)
    up.add('required_floatingips', address='172.24.4.100',
           floatingip_reservation_id=fip_row['id'])
    up.add('floatingip_allocations', floatingip_id=fip['id'], reservation_id=fip_res['id'])

    # Running since an hour, ending END_IN seconds from now.
    end = now + datetime.timedelta(seconds=END_IN)
    running = lease('running', 'ACTIVE', now - hour, end, [
        ('start_lease', now - hour, 'DONE'), ('end_lease', end, 'UNDONE'),
        ('before_end_lease', now - hour, 'DONE')])
    running_hosts = host_reservation(running, 'active', '2-2', ['compute-1', 'compute-2'],
                                     'hosts')
    running_inst = instance_reservation(
        running, 'virtual:instance', 'active', ['compute-5', 'compute-5'], None,
        vcpus=2, memory_mb=2048, disk_gb=10, amount=2, affinity=None,
        resource_properties='')
    inst_agg = reservation_aggregate(running_inst['id'], zone=False,
                                     members=('compute-5',), instance=True)
    with up.engine.begin() as conn:
        conn.execute(sa.text('UPDATE instance_reservations SET aggregate_id = :a '
                             'WHERE reservation_id = :r'),
                     {'a': inst_agg['id'], 'r': running_inst['id']})
    rc = reservation_flavor(running_inst['id'], 2, 2048, 10, access=True)
    child = placement.list_providers(name='blazar_compute-5')[0]
    placement.add_inventory(child['uuid'], child['generation'], rc, {
        'total': 2, 'reserved': 0, 'min_unit': 1, 'max_unit': 1, 'step_size': 1,
        'allocation_ratio': 1.0})

    # Waiting to start START_IN seconds from now.
    start = now + datetime.timedelta(seconds=START_IN)
    waiting = lease('waiting', 'PENDING', start, start + day, [
        ('start_lease', start, 'UNDONE'), ('end_lease', start + day, 'UNDONE'),
        ('before_end_lease', start + day - hour, 'UNDONE')])
    # The client's raw events, stored but never run by upstream.
    up.add('events', lease_id=waiting['id'], event_type=None, time=None, status=None)
    waiting_hosts = host_reservation(waiting, 'pending', '1-1', ['compute-3'], 'empty')
    source = cloud.create_flavor('m1.upstream', 4096, 2, 20, ephemeral=5)
    waiting_flavor = instance_reservation(
        waiting, 'flavor:instance', 'pending', ['compute-4'], None, vcpus=2,
        memory_mb=4096, disk_gb=20, amount=1, affinity=None,
        resource_properties=_upstream_flavor_json(source['id']))
    flavor_agg = reservation_aggregate(waiting_flavor['id'], zone=False, instance=True)
    with up.engine.begin() as conn:
        conn.execute(sa.text('UPDATE instance_reservations SET aggregate_id = :a '
                             'WHERE reservation_id = :r'),
                     {'a': flavor_agg['id'], 'r': waiting_flavor['id']})
    flavor_rc = reservation_flavor(waiting_flavor['id'], 2, 4096, 25, access=False)

    # Caught by the upgrade in the middle of an update (far in the future).
    updating = lease('updating', 'UPDATING', now + 10 * day, now + 11 * day, [
        ('start_lease', now + 10 * day, 'UNDONE'), ('end_lease', now + 11 * day, 'UNDONE')])

    return {'hosts': hosts, 'ended': ended, 'running': running, 'waiting': waiting,
            'updating': updating, 'running_hosts': running_hosts,
            'running_inst': running_inst['id'], 'waiting_hosts': waiting_hosts,
            'waiting_flavor': waiting_flavor['id'], 'flavor_rc': flavor_rc,
            'end': end, 'start': start, 'fip_res': fip_res['id']}


def run_ours(command, config, *args):
    return subprocess.run([os.path.join(BIN, command), '--config-file', str(config)]
                          + list(args), capture_output=True, text=True, timeout=300)


def _schema(url, skip=()):
    """Tables, columns, keys and indexes, as a comparable structure."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        schema = {}
        for table in sorted(set(inspector.get_table_names()) - set(skip)):
            schema[table] = {
                'columns': sorted((c['name'], str(c['type']), c['nullable'])
                                  for c in inspector.get_columns(table)),
                'pk': sorted(inspector.get_pk_constraint(table)['constrained_columns']),
                'fks': sorted((tuple(fk['constrained_columns']), fk['referred_table'],
                               tuple(fk['referred_columns']),
                               (fk.get('options') or {}).get('ondelete'))
                              for fk in inspector.get_foreign_keys(table)),
                'indexes': sorted((ix['name'], tuple(ix['column_names']),
                                   bool(ix['unique']))
                                  for ix in inspector.get_indexes(table)),
                'unique': sorted((uq['name'], tuple(uq['column_names']))
                                 for uq in inspector.get_unique_constraints(table)),
            }
        return schema
    finally:
        engine.dispose()


def _aggregates(cloud):
    return {a['name']: a for a in cloud.list_aggregates()}


def _wait(api, lease_id, status, due):
    deadline = due + datetime.timedelta(seconds=ON_TIME)
    while True:
        lease = api.get('/v1/leases/%s' % lease_id).json()['lease']
        now = datetime.datetime.utcnow()
        if lease['status'] == status:
            return now
        assert now < deadline, ('lease %s is %s %ss after its event was due, not %s: %s'
                                % (lease['name'], lease['status'], ON_TIME, status, lease))
        time.sleep(0.3)


def test_upstream_database_is_converted_and_its_leases_go_on(
        upstream_db, tmp_path, tmp_path_factory, shared_stack):
    cloud = sim_state.Cloud(hosts=6, vcpus=8)
    with sim_testing.simulated_nova(cloud):
        up = Upstream(upstream_db.url, datetime.datetime.utcnow().replace(microsecond=0))
        made = fill(up, cloud)
        fip_tables = {name: up.table(name) for name in (
            'floatingips', 'floatingip_reservations', 'required_floatingips',
            'floatingip_allocations')}
        up.engine.dispose()

        config = tmp_path / 'blazar.conf'
        config.write_text('[database]\nconnection = %s\n' % upstream_db.url)
        status = run_ours('blazar-status', config, 'upgrade', 'check', '--json')
        checks = {c['check']: c for c in json.loads(status.stdout)['checks']}
        assert checks['Database schema']['result'] == 2
        assert "upstream Blazar 18's schema" in checks['Database schema']['details']
        assert '4 leases' in checks['Database schema']['details']

        started = time.monotonic()
        upgrade = run_ours('blazar-db-manage', config, 'upgrade', 'head')
        took = time.monotonic() - started
        print('%s: the conversion took %.1f s' % (upstream_db.backend, took))
        assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
        assert 'Converted an upstream Blazar 18 database' in upgrade.stdout
        assert 'leases: 4 row(s)' in upgrade.stdout
        assert '1 event(s) left out' in upgrade.stdout

        CONF.set_override('connection', upstream_db.url, group='database')
        db_api.reset_facade()
        assert migration.current_revision() == migration.head_revision()
        status = run_ours('blazar-status', config, 'upgrade', 'check', '--json')
        checks = {c['check']: c for c in json.loads(status.stdout)['checks']}
        assert checks['Database schema']['result'] == 0, checks
        assert run_ours('blazar-db-manage', config, 'check_migration').returncode == 0
        _as_if_now(upstream_db.url, made, up.now)

        functional.stop_shared_stack(shared_stack)
        shared_stack['stack'] = functional.Stack()
        try:
            _run_converted(shared_stack['stack'].api, cloud, made, upstream_db,
                           fip_tables)
        finally:
            functional.stop_shared_stack(shared_stack)
    _check_schema(upstream_db, tmp_path_factory, fip_tables)


def _as_if_now(url, made, filled_at):
    """Move every lease window of the converted database by the time since
    it was filled, as if the conversion had taken no time: under load it
    takes long enough (14 s seen on MariaDB) for the running lease to end
    before the test sees what it holds."""
    shift = datetime.timedelta(seconds=int(
        (datetime.datetime.utcnow() - filled_at).total_seconds()))
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(bind=engine)
        with engine.begin() as conn:
            for table in metadata.tables.values():
                columns = [c for c in WINDOW_COLUMNS if c in table.c
                           and isinstance(table.c[c].type, sa.DateTime)]
                if columns:
                    _shift_rows(conn, table, columns, shift)
    finally:
        engine.dispose()
    made['end'] += shift
    made['start'] += shift


def _shift_rows(conn, table, columns, shift):
    key = list(table.primary_key.columns)
    for row in conn.execute(sa.select(*key, *(table.c[c] for c in columns))).all():
        values = {c: row._mapping[c] + shift for c in columns
                  if row._mapping[c] is not None}
        if values:
            conn.execute(table.update().where(
                *(k == row._mapping[k.name] for k in key)).values(values))


def _run_converted(api, cloud, made, upstream_db, fip_tables):
    _check_converted(api, made)
    _check_fip_tables_kept(upstream_db.url, fip_tables)

    # Until it ends, the running lease keeps what it holds in Nova: once
    # the converted service has settled, its hosts are still in its
    # aggregate (not back in the freepool) and its instance reservation's
    # host in its own.
    settled()
    aggregates = _aggregates(cloud)
    assert datetime.datetime.utcnow() < made['end'], (
        'the running lease ended before its hosts could be checked')
    assert sorted(aggregates[made['running_hosts']]['hosts']) == ['compute-1', 'compute-2']
    assert not {'compute-1', 'compute-2'} & set(aggregates['freepool']['hosts'])
    assert aggregates[made['running_inst']]['hosts'] == ['compute-5']
    assert made['running_inst'] in cloud.flavors

    # The running lease ends on time; its hosts go back to the freepool
    # and what its instance reservation made in Nova is gone.
    _wait(api, made['running']['id'], 'TERMINATED', made['end'])
    aggregates = _aggregates(cloud)
    assert made['running_hosts'] not in aggregates
    assert made['running_inst'] not in aggregates
    assert {'compute-1', 'compute-2', 'compute-5'} <= set(aggregates['freepool']['hosts'])
    assert made['running_inst'] not in cloud.flavors

    # The waiting lease starts on time: its host leaves the freepool for
    # its aggregate; its flavor reservation's host joins its own.
    _wait(api, made['waiting']['id'], 'ACTIVE', made['start'])
    aggregates = _aggregates(cloud)
    assert aggregates[made['waiting_hosts']]['hosts'] == ['compute-3']
    assert 'compute-3' not in aggregates['freepool']['hosts']
    assert aggregates[made['waiting_flavor']]['hosts'] == ['compute-4']
    assert PROJECT in cloud.list_flavor_access(made['waiting_flavor'])
    child = cloud.placement.list_providers(name='blazar_compute-4')[0]
    assert cloud.placement.get_inventories(child['uuid'])[1][made['flavor_rc']][
        'total'] == 1

    # Life goes on: a new lease, and the ended one deleted with its
    # floating-IP reservation rows (the address stays).
    resp = api.post('/v1/leases', {
        'name': 'after', 'start_date': 'now',
        'end_date': (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).strftime(
            '%Y-%m-%d %H:%M'),
        'reservations': [{'resource_type': 'physical:host', 'min': 1, 'max': 1,
                          'hypervisor_properties': '',
                          'resource_properties': '["==", "$gpu", "a100"]'}]})
    assert resp.status_code == 201, resp.text
    assert api.delete('/v1/leases/%s' % made['ended']['id']).status_code == 204
    engine = sa.create_engine(upstream_db.url)
    with engine.connect() as conn:
        count = {name: conn.execute(sa.text('SELECT COUNT(*) FROM %s' % name)).scalar()
                 for name in fip_tables}
    engine.dispose()
    assert count == {'floatingips': 1, 'floatingip_reservations': 0,
                     'required_floatingips': 0, 'floatingip_allocations': 0}


def _check_schema(upstream_db, tmp_path_factory, fip_tables):
    """The converted schema is the one a new database gets, floating-IP
    tables included (revision 0008 rebuilds upstream's in this service's
    shape)."""
    fresh = backends.Database(upstream_db.backend, tmp_path_factory)
    try:
        CONF.set_override('connection', fresh.url, group='database')
        db_api.reset_facade()
        migration.upgrade('head')
        db_api.reset_facade()
        converted, new = _schema(upstream_db.url), _schema(fresh.url)
        assert set(fip_tables) <= set(new)
        assert converted == new
    finally:
        db_api.reset_facade()
        fresh.drop()


def _check_converted(api, made):
    hosts = made['hosts']
    leases = {lease['name']: lease for lease in api.get('/v1/leases').json()['leases']}
    assert sorted(leases) == ['ended', 'running', 'updating', 'waiting']
    assert {name: lease['status'] for name, lease in leases.items()} == {
        'ended': 'TERMINATED', 'running': 'ACTIVE', 'waiting': 'PENDING',
        'updating': 'PENDING'}
    assert 'was UPDATING under upstream Blazar' in leases['updating']['status_reason']
    running = leases['running']
    assert running['id'] == made['running']['id']
    assert (running['project_id'], running['user_id']) == (PROJECT, USER)
    assert running['trust_id'] == made['running']['trust_id']
    assert running['end_date'] == made['end'].strftime('%Y-%m-%dT%H:%M:%S.%f')
    by_type = {r['resource_type']: r for r in running['reservations']}
    assert by_type['physical:host']['status'] == 'active'
    assert (by_type['physical:host']['min'], by_type['physical:host']['max']) == (2, 2)
    assert by_type['physical:host']['hypervisor_properties'] == '[">=", "$vcpus", "4"]'
    assert by_type['physical:host']['before_end'] == 'default'
    instance = by_type['virtual:instance']
    assert (instance['vcpus'], instance['memory_mb'], instance['disk_gb'],
            instance['amount'], instance['affinity']) == (2, 2048, 10, 2, None)
    assert instance['flavor_id'] == made['running_inst']
    assert sorted((e['event_type'], e['status']) for e in running['events']) == [
        ('before_end_lease', 'DONE'), ('end_lease', 'UNDONE'), ('start_lease', 'DONE')]

    waiting = leases['waiting']
    flavor = {r['resource_type']: r for r in waiting['reservations']}['flavor:instance']
    source = json.loads(flavor['resource_properties'])
    assert (source['vcpus'], source['ram'], source['disk'], source['ephemeral']) == (
        2, 4096, 20, 5)
    assert source['extra_specs']['trait:CUSTOM_FAST'] == 'required'
    # Upstream's raw client event is left out.
    assert len(waiting['events']) == 3
    ended = leases['ended']
    assert sorted(r['resource_type'] for r in ended['reservations']) == [
        'physical:host', 'virtual:floatingip', 'virtual:instance']
    assert {r['status'] for r in ended['reservations']} == {'deleted'}
    fip = next(r for r in ended['reservations']
               if r['resource_type'] == 'virtual:floatingip')
    assert (fip['amount'], fip['required_floatingips']) == (1, ['172.24.4.100'])
    assert [f['floating_ip_address'] for f in api.get('/v1/floatingips').json()[
        'floatingips']] == ['172.24.4.100']

    listed = {h['hypervisor_hostname']: h for h in api.get('/v1/os-hosts').json()['hosts']}
    assert sorted(listed) == ['compute-%d' % i for i in range(1, 7)]
    for name, row in hosts.items():
        assert listed[name]['id'] == row['id']   # integer upstream ids are kept
        assert listed[name]['trust_id'] == row['trust_id']
    assert listed['compute-1']['gpu'] == 'a100'
    assert (listed['compute-2']['gpu'], listed['compute-2']['rack']) == ('v100', 'r2')
    assert listed['compute-6']['reservable'] is False
    assert listed['compute-6']['state'] == 'failed'
    props = api.get('/v1/os-hosts/properties?detail=1&all=1').json()['resource_properties']
    assert sorted((p['property'], p['private'], sorted(p['values'])) for p in props) == [
        ('gpu', False, ['a100', 'v100']), ('rack', True, ['r2'])]
    allocations = {a['resource_id']: sorted(r['lease_id'] for r in a['reservations'])
                   for a in api.get('/v1/os-hosts/allocations').json()['allocations']}
    ids = {name: row['id'] for name, row in hosts.items()}
    assert allocations[ids['compute-1']] == [made['running']['id']]
    assert allocations[ids['compute-2']] == [made['running']['id']]
    assert allocations[ids['compute-5']] == [made['running']['id']]
    assert allocations[ids['compute-3']] == [made['waiting']['id']]
    assert allocations[ids['compute-4']] == [made['waiting']['id']]
    assert allocations[ids['compute-6']] == []


def _check_fip_tables_kept(url, before):
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(bind=engine, only=list(before))
        with engine.connect() as conn:
            for name, rows in before.items():
                table = metadata.tables[name]
                assert [dict(r._mapping) for r in conn.execute(
                    sa.select(table).order_by(table.c.id))] == rows, name
        inspector = sa.inspect(engine)
        referred = {fk['referred_table'] for fk in
                    inspector.get_foreign_keys('floatingip_reservations')}
        assert referred == {'reservations'}
    finally:
        engine.dispose()

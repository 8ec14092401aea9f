"""How the conversion of an upstream Blazar 18 database reshapes rows
(blazar/db/migration/upstream.py); the whole conversion on real upstream
databases is blazar/tests/functional/test_upstream_upgrade.py."""
import datetime
import json

import pytest

from blazar.db.migration import upstream

NOW = datetime.datetime(2030, 1, 1, 12, 0)


def test_integer_host_ids_are_kept_and_uuids_numbered_after_them():
    rows = [{'id': '3'}, {'id': 'a7c1e0e2-uuid'}, {'id': '1'}, {'id': 'b-uuid'}]
    assert upstream._host_ids(rows) == {'3': 3, '1': 1, 'a7c1e0e2-uuid': 4, 'b-uuid': 5}


def test_hosts_keep_nova_id_and_failed_hosts_stay_failed():
    rows = [{'id': 'c0ffee', 'vcpus': 4, 'memory_mb': 1024, 'local_gb': 10,
             'hypervisor_hostname': None, 'service_name': 'compute-1',
             'reservable': False, 'created_at': None, 'updated_at': None}]
    host, = upstream._hosts(rows, upstream._host_ids(rows), NOW)
    assert (host['id'], host['hypervisor_id'], host['hypervisor_hostname']) == (
        1, 'c0ffee', 'compute-1')
    assert host['reservable'] is False and host['failure_reason'] == upstream.UPSTREAM_FAILED
    assert host['created_at'] == NOW


def test_duplicate_hostnames_are_refused_saying_which():
    rows = [{'id': str(i), 'vcpus': 1, 'memory_mb': 1, 'local_gb': 1,
             'hypervisor_hostname': 'twin'} for i in (1, 2)]
    with pytest.raises(upstream.ConversionError, match='Hosts 1 and 2 .* twin'):
        upstream._hosts(rows, upstream._host_ids(rows), NOW)


@pytest.mark.parametrize('text, expected', [
    ('1-3', (1, 3)), ('2-2', (2, 2)), ('0-1', (0, 1)), ('3-1', None), ('x', None),
    (None, None), ('1-2-3', None)])
def test_count_range(text, expected):
    assert upstream._count_range(text) == expected


def _event(lease, event_type, status, time=NOW):
    return {'id': '%s-%s' % (lease, event_type), 'lease_id': lease,
            'event_type': event_type, 'time': time, 'status': status}


def test_events_cut_short_run_again_and_inert_ones_are_left_out():
    report = upstream.Report()
    rows = [_event('l1', 'start_lease', 'IN_PROGRESS'), _event('l1', 'end_lease', 'UNDONE'),
            _event('l1', None, None, time=None), _event('l1', 'custom', 'UNDONE'),
            _event('gone', 'start_lease', 'DONE')]
    kept = upstream._events(rows, {'l1'}, NOW, report)
    assert [(e['event_type'], e['status'], e['attempts']) for e in kept] == [
        ('start_lease', 'UNDONE', 0), ('end_lease', 'UNDONE', 0)]
    assert report.notes == ['3 event(s) left out: no lease, no time, or a type no code '
                            'runs (start_lease, end_lease, before_end_lease, '
                            'before_start_lease are run)']


@pytest.mark.parametrize('status, start, end, expected', [
    ('ACTIVE', 'DONE', 'UNDONE', 'ACTIVE'),
    ('STARTING', 'IN_PROGRESS', 'UNDONE', 'PENDING'),
    ('TERMINATING', 'DONE', 'IN_PROGRESS', 'ACTIVE'),
    ('UPDATING', 'DONE', 'DONE', 'TERMINATED'),
    ('DELETING', 'DONE', 'ERROR', 'ERROR'),
    (None, 'UNDONE', 'UNDONE', 'PENDING'),
])
def test_transitional_lease_statuses_become_what_the_events_say(status, start, end,
                                                               expected):
    report = upstream.Report()
    events = upstream._events([_event('l1', 'start_lease', start),
                               _event('l1', 'end_lease', end)], {'l1'}, NOW, report)
    lease, = upstream._leases([{'id': 'l1', 'name': 'n', 'status': status,
                                'start_date': NOW, 'end_date': NOW}], events, NOW, report)
    assert lease['status'] == expected
    assert (lease['status_reason'] is None) == (status == expected)


def test_flavor_reservations_keep_their_flavor_as_this_service_does():
    flavor = {'id': 'f1', 'name': 'm1', 'ram': 4096, 'disk': 20, 'swap': '', 'vcpus': 2,
              'OS-FLV-EXT-DATA:ephemeral': 5, 'os-flavor-access:is_public': False,
              'rxtx_factor': 1.0, 'extra_specs': {'hw:cpu_policy': 'dedicated',
                                                  'trait:CUSTOM_FAST': 'required',
                                                  'resources:CUSTOM_GPU': '1'}}
    row = {'id': 'i1', 'reservation_id': 'r1', 'vcpus': 2, 'memory_mb': 4096,
           'disk_gb': 20, 'amount': 3, 'affinity': None,
           'resource_properties': json.dumps(flavor), 'flavor_id': 'r1'}
    report = upstream.Report()
    values, = upstream._instance_reservations([row], {'r1': 'flavor:instance'}, NOW, report)
    assert values['resource_properties'] == ''
    assert json.loads(values['source_flavor']) == {
        'id': 'f1', 'name': 'm1', 'vcpus': 2, 'ram': 4096, 'disk': 20, 'ephemeral': 5,
        'swap': 0, 'is_public': False, 'extra_specs': flavor['extra_specs']}
    assert json.loads(values['resources']) == {'PCPU': 2, 'MEMORY_MB': 4096,
                                               'DISK_GB': 25, 'CUSTOM_GPU': 1}
    assert json.loads(values['traits']) == {'required': ['CUSTOM_FAST'], 'forbidden': []}
    assert values['disk_gb'] == 25 and report.notes == []


def test_virtual_instance_reservations_get_their_shape():
    row = {'id': 'i1', 'reservation_id': 'r1', 'vcpus': 2, 'memory_mb': 512,
           'disk_gb': 0, 'amount': 1, 'affinity': False, 'resource_properties': None}
    values, = upstream._instance_reservations([row], {'r1': 'virtual:instance'}, NOW,
                                              upstream.Report())
    assert json.loads(values['resources']) == {'VCPU': 2, 'MEMORY_MB': 512}
    assert values['resource_properties'] == '' and values['source_flavor'] is None


def test_allocations_count_slots_per_host_over_the_lease_window():
    later = NOW + datetime.timedelta(days=1)
    leases = [{'id': 'l1', 'start_date': NOW, 'end_date': later}]
    reservations = [{'id': 'r1', 'lease_id': 'l1'}]
    rows = [{'id': str(i), 'compute_host_id': host, 'reservation_id': 'r1'}
            for i, host in enumerate(['7', '7', '8', 'gone'])]
    allocations = upstream._allocations(rows, {'7': 7, '8': 8}, reservations, leases, NOW)
    assert sorted((a['compute_host_id'], a['slots'], a['start_date'], a['end_date'])
                  for a in allocations) == [(7, 2, NOW, later), (8, 1, NOW, later)]

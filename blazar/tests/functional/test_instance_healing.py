"""Monitoring and healing of instance reservations: the slots held on a
failed host move to healthy hosts (in Nova and Placement at once when the
reservation is active), or the reservation is flagged until a host is back."""
from blazar.tests.functional import test_host_healing
from blazar.tests.functional.conftest import settled
from blazar.tests.functional.test_host_healing import held
from blazar.tests.functional.test_host_healing import host
from blazar.tests.functional.test_host_healing import host_names
from blazar.tests.functional.test_host_healing import reservation_of
from blazar.tests.functional.test_host_healing import wait_until
from blazar.tests.functional.test_host_reservations import aggregates
from blazar.tests.functional.test_host_reservations import enrol
from blazar.tests.functional.test_host_reservations import lease_with
from blazar.tests.functional.test_instance_reservations import instance_reservation
from blazar.tests.functional.test_instance_reservations import reserved_inventory
from blazar.tests.functional.test_leases import wait_for_status

polled = test_host_healing.polled  # a fixture shared with the host healing tests


def test_a_failed_host_of_an_active_instance_reservation_is_replaced_at_once(
        polled, simulator):
    api, cloud = polled.api, simulator.cloud
    enrol(api, 4)
    lease = api.post('/v1/leases', lease_with([instance_reservation(2, affinity=False)],
                                              start='now', end=60)).json()['lease']
    res_id = lease['reservations'][0]['id']
    wait_for_status(api, lease['id'], 'ACTIVE')
    before = held(api, res_id)
    lost = before[0]
    cloud.fail_host(lost)
    now_held = wait_until('slots moved', lambda: lost not in held(api, res_id)
                          and held(api, res_id))
    assert len(now_held) == 2 and len(set(now_held)) == 2      # still anti-affine
    lease, reservation = reservation_of(api, lease['id'])
    assert (reservation['missing_resources'], reservation['resources_changed'],
            lease['degraded']) == (False, True, False)
    settled()   # the store moved the slots; the converger makes Nova follow
    assert sorted(aggregates(cloud)[res_id]['hosts']) == now_held
    assert reserved_inventory(cloud, res_id) == {h: 1 for h in now_held}


def test_a_pending_affine_reservation_moves_every_slot_to_one_host(polled, simulator):
    api, cloud = polled.api, simulator.cloud
    enrol(api, 3)
    lease = api.post('/v1/leases', lease_with([instance_reservation(
        2, vcpus=1, memory_mb=512, disk_gb=1, affinity=True)])).json()['lease']
    res_id = lease['reservations'][0]['id']
    (lost,) = held(api, res_id)
    cloud.fail_host(lost)
    (other,) = wait_until('slots moved', lambda: lost not in held(api, res_id)
                          and held(api, res_id))
    assert other != lost
    lease, reservation = reservation_of(api, lease['id'])
    assert (reservation['missing_resources'], lease['degraded']) == (False, False)
    assert aggregates(cloud)[res_id]['hosts'] == []


def test_no_room_left_degrades_until_the_host_recovers(polled, simulator):
    api, cloud = polled.api, simulator.cloud
    enrol(api, 2)
    lease = api.post('/v1/leases', lease_with([instance_reservation(2, affinity=False)],
                                              start='now', end=60)).json()['lease']
    res_id = lease['reservations'][0]['id']
    wait_for_status(api, lease['id'], 'ACTIVE')
    lost = held(api, res_id)[0]
    cloud.fail_host(lost)
    degraded = wait_until('degraded', lambda: reservation_of(api, lease['id'])[0][
        'degraded'] and reservation_of(api, lease['id']))
    assert degraded[1]['missing_resources'] is True
    assert lost in held(api, res_id)          # waits for its host
    cloud.recover_host(lost)
    wait_until('flags cleared', lambda: not reservation_of(api, lease['id'])[0][
        'degraded'])
    assert reservation_of(api, lease['id'])[1]['missing_resources'] is False
    assert host(api, lost)['reservable'] is True


def test_reallocate_moves_instance_slots_off_a_host(api, stack):
    cloud = stack.simulator.cloud
    enrol(api, 3)
    lease = api.post('/v1/leases', lease_with([instance_reservation(1)], start='now',
                                              end=60)).json()['lease']
    res_id = lease['reservations'][0]['id']
    wait_for_status(api, lease['id'], 'ACTIVE')
    (target,) = held(api, res_id)
    ids = {name: id_ for id_, name in host_names(api).items()}
    resp = api.put('/v1/os-hosts/%s/allocation' % ids[target], {})
    assert resp.status_code == 200, resp.text
    settled()
    (other,) = held(api, res_id)
    assert other != target
    assert aggregates(cloud)[res_id]['hosts'] == [other]
    assert reserved_inventory(cloud, res_id) == {other: 1}

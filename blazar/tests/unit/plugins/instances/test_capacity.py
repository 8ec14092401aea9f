import datetime

from blazar.allocation import slots
from blazar.plugins.instances import capacity

HOST = {'vcpus': 8, 'memory_mb': 16384, 'local_gb': 100}


def inventory(total, reserved=0, ratio=1.0, max_unit=None):
    return {'total': total, 'reserved': reserved, 'min_unit': 1,
            'max_unit': max_unit if max_unit is not None else total, 'step_size': 1,
            'allocation_ratio': ratio}


def test_placement_inventory_wins_over_raw_sizes():
    inventories = {'VCPU': inventory(8, reserved=2, ratio=4.0),
                   'MEMORY_MB': inventory(16384, reserved=512, ratio=1.5)}
    assert capacity.host_capacity(HOST, inventories, {'VCPU': 1}) == {
        'VCPU': 24.0, 'MEMORY_MB': (16384 - 512) * 1.5}


def test_raw_sizes_without_inventory():
    assert capacity.host_capacity(HOST, {}, {'VCPU': 1}) == {
        'VCPU': 8, 'MEMORY_MB': 16384, 'DISK_GB': 100}


def test_a_class_whose_max_unit_is_too_small_holds_nothing():
    inventories = {'VCPU': inventory(64, max_unit=4), 'MEMORY_MB': inventory(65536)}
    assert capacity.host_capacity(HOST, inventories, {'VCPU': 8})['VCPU'] == 0
    assert capacity.host_capacity(HOST, inventories, {'VCPU': 4})['VCPU'] == 64


def test_allocation_ratio_multiplies_the_slots():
    t = datetime.datetime(2030, 1, 1)
    window = (t, t + datetime.timedelta(hours=1))
    shape = {'VCPU': 2, 'MEMORY_MB': 512}
    with_ratio = capacity.host_capacity(
        HOST, {'VCPU': inventory(8, ratio=4.0), 'MEMORY_MB': inventory(16384)}, shape)
    raw = capacity.host_capacity(HOST, {}, shape)
    assert slots.fits(with_ratio, [], shape, window) == 16
    assert slots.fits(raw, [], shape, window) == 4


def test_per_instance_needs_of_a_stored_reservation():
    assert capacity.per_instance({'resources': '{"PCPU": 2}', 'vcpus': 2,
                                  'memory_mb': 1, 'disk_gb': 0}) == {'PCPU': 2}
    # Rows written before resources were stored: their shape.
    assert capacity.per_instance({'resources': None, 'vcpus': 2, 'memory_mb': 512,
                                  'disk_gb': 0}) == {'VCPU': 2, 'MEMORY_MB': 512}

import datetime

from oslo_utils import timeutils
import pytest

NOW = datetime.datetime(2030, 1, 1, 12, 0)
H = datetime.timedelta(hours=1)


@pytest.fixture
def now():
    timeutils.set_time_override(NOW)
    yield NOW
    timeutils.clear_time_override()


@pytest.fixture
def opts(config):
    def set_options(**options):
        for name, value in options.items():
            config.set_override(name, value, group='enforcement')
    return set_options


def lease(start_h=1, end_h=2, project='p1', status='PENDING', hosts=1, vcpus=8,
          memory_mb=1024, lease_id='L'):
    """A lease as filters see it, holding ``hosts`` hosts of one size."""
    allocations = [{'id': str(i), 'hypervisor_hostname': 'h%d' % i, 'service_name':
                    'h%d' % i, 'vcpus': vcpus, 'memory_mb': memory_mb, 'local_gb': 10}
                   for i in range(hosts)]
    usage = {'hosts': hosts, 'vcpus': hosts * vcpus, 'memory_mb': hosts * memory_mb}
    return {'id': lease_id, 'name': 'l', 'user_id': 'u', 'project_id': project,
            'status': status, 'start_date': NOW + start_h * H, 'end_date': NOW + end_h * H,
            'reservations': [{'id': 'r', 'resource_type': 'physical:host', 'min': hosts,
                              'max': hosts, 'allocations': allocations,
                              'usage': dict(usage)}] if hosts else [],
            'usage': usage}

"""The RPC payload converter gives what oslo's generic one gives."""
import datetime

from oslo_serialization import jsonutils

from blazar import rpc


def test_to_primitive_matches_oslo_for_service_payloads():
    payload = {'lease': {'start_date': datetime.datetime(2030, 1, 2, 3, 4, 5, 6),
                         'updated_at': None, 'degraded': False, 'count': 3,
                         'ratio': 1.5, 'events': [{'time': datetime.datetime(2030, 1, 1)}],
                         'pair': (1, 'a')}}
    assert rpc.to_primitive(payload) == jsonutils.to_primitive(payload,
                                                               convert_instances=True)

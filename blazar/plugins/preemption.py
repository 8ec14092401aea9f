"""Preemptible servers as the plugins see them.

A server is preemptible when its flavor carries ``[preemptible]
flavor_key`` = ``true`` (Nova embeds the flavor, extra specs included, in
the server since microversion 2.47).
"""
from blazar.allocation import flavors
from blazar.conf import CONF


def is_preemptible(server):
    flavor = server.get('flavor') or {}
    value = (flavor.get('extra_specs') or {}).get(CONF.preemptible.flavor_key, '')
    return str(value).lower() == 'true'


def resources(server):
    """What one server takes from its host's Placement inventory."""
    flavor = server.get('flavor') or {}
    if 'vcpus' not in flavor:
        return {}
    return flavors.placement_request(flavor)[0]


def targets(reclaim=(), blocked=()):
    """What a plugin answers: servers to reclaim and servers in the way that
    must not be touched, each as ``(server, host)`` pairs."""
    return {'reclaim': list(reclaim), 'blocked': list(blocked)}

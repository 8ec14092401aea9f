"""Entry points for oslo-config-generator."""
from blazar.conf import api
from blazar.conf import default
from blazar.conf import enforcement
from blazar.conf import hosts
from blazar.conf import manager
from blazar.conf import neutron
from blazar.conf import nova
from blazar.conf import placement
from blazar.conf import preemptible
from blazar.conf import simulator
from blazar.conf import trustee
from blazar.conf import upstream


def list_opts():
    opts = []
    for module in (default, api, manager, nova, hosts, simulator):
        opts.extend(module.list_opts())
    opts.extend(enforcement.list_opts())
    opts.extend(placement.list_opts())
    opts.extend(neutron.list_opts())
    opts.extend(preemptible.list_opts())
    opts.extend(trustee.list_opts())
    opts.extend(upstream.list_opts())
    # graceful_shutdown_timeout and log_options (blazar/launcher.py).
    from blazar import launcher
    opts.extend(launcher.list_opts())
    return opts


def set_lib_defaults():
    """Defaults of library options that differ from the libraries' own."""
    from oslo_middleware import cors
    cors.set_defaults(
        allow_headers=['X-Auth-Token', 'X-Openstack-Request-Id',
                       'OpenStack-API-Version', 'Content-Type'],
        expose_headers=['X-Openstack-Request-Id', 'OpenStack-API-Version'],
        allow_methods=['GET', 'PUT', 'POST', 'DELETE', 'PATCH'])

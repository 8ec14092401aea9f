"""``blazar-simulator``: serve an in-memory Nova for trying Blazar out.

Sized by the ``[simulator]`` options; prints where it listens and the
``[nova]`` settings that point Blazar at it, then serves until Ctrl-C.
"""
import logging
import sys
import time

from blazar.conf import CONF
from blazar.simulator import server
from blazar.simulator import state


def _instructions(srv):
    head = ['Simulated Nova (compute API 2.1-2.96) with %d hypervisors at %s'
            % (len(srv.cloud.hypervisors), srv.compute_url)]
    if CONF.simulator.auth_strategy == 'keystone':
        return '\n'.join(head + [
            'It validates Keystone tokens ([keystone_authtoken]). Register '
            'its endpoints in the catalog',
            '  compute: %s' % srv.compute_url,
            '  placement: %s' % srv.placement_url,
            '  network: %s' % srv.neutron_url,
            'and give [nova], [placement] and [neutron] the credentials of a user with '
            'the admin role (auth_type = password).',
            'Press Ctrl-C to stop.'])
    return '\n'.join(head + [
        'Point Blazar at it with:',
        '  [nova]',
        '  auth_type = admin_token',
        '  endpoint = %s' % srv.compute_url,
        '  token = admin:admin',
        '  [placement]',
        '  auth_type = admin_token',
        '  endpoint = %s' % srv.placement_url,
        '  token = admin',
        '  [neutron]',
        '  auth_type = admin_token',
        '  endpoint = %s' % srv.neutron_url,
        '  token = admin:admin',
        "Other users authenticate with 'X-Auth-Token: <user>:<project>'.",
        'Press Ctrl-C to stop.',
    ])


def _control(srv):
    if not CONF.simulator.control_api:
        return ''
    return ('\nTEST-ONLY control API (no authentication) at %s/_simulator/ '
            '(faults, requests, hosts/<host>/failure).' % srv.url)


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    CONF(args, project='blazar', prog='blazar-simulator')
    logging.basicConfig(
        level=logging.DEBUG if 'debug' in CONF and CONF.debug
        else logging.INFO,
        format='%(asctime)s %(levelname)s %(name)s %(message)s')
    srv = server.start_simulator(state.Cloud.from_config(),
                                 host=CONF.simulator.bind_host,
                                 port=CONF.simulator.bind_port)
    print(_instructions(srv) + _control(srv), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())

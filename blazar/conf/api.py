from oslo_config import cfg

from blazar.conf import upstream

api_opts = [
    cfg.HostAddressOpt('bind_host', default='0.0.0.0',
                       help='Address blazar-api listens on (standalone server).'),
    cfg.PortOpt('bind_port', default=1234,
                deprecated_opts=upstream.deprecated_opts('api', 'bind_port'),
                help='Port blazar-api listens on (standalone server).'),
    cfg.IntOpt('workers', default=1, min=1,
               help='Processes of the standalone blazar-api server, each '
                    'serving the one listening socket (under uwsgi or '
                    'gunicorn, their own options size the server).'),
    cfg.IntOpt('broker_retries', default=2, min=0,
               help='How many times one API call retries reaching the message '
                    'broker before answering 503 (instead of waiting for the '
                    'broker to come back).'),
    cfg.IntOpt('max_limit', default=1000, min=1,
               help='The most items one page of a list answers (GET '
                    '/v1/leases, /v1/os-hosts, /v1/os-hosts/allocations, '
                    '/v1/preemptions with limit or marker); a larger limit is '
                    'cut to this.'),
]


def register_opts(conf):
    conf.register_opts(api_opts, group='api')


def list_opts():
    return [('api', api_opts)]

"""ExternalServiceFilter: the operator's own policy service decides.

Each hook POSTs JSON to a URL (``<external_service_base_endpoint>/check-create``,
``/check-update``, ``/on-end``, or the per-hook URL options) with
``X-Auth-Token: <external_service_token>``::

    {"context": {"user_id", "project_id", "roles", "is_admin", "request_id",
                 "auth_url", "region_name"},
     "lease": {...},               # as it would be (blazar.enforcement.views)
     "current_lease": {...}}       # check-update only: as it is now

Dates are ISO 8601 UTC strings (``2030-01-01T10:00:00.000000``).

* 204 allows.
* 403 refuses, with the ``message`` of a JSON body ``{"message": "..."}``
  (or a plain-text body) as the refusal message.
* Anything else, an unreachable service or no answer within
  ``[external_service] timeout`` (``external_service_timeout`` when unset)
  refuses with a generic message, or allows
  (logging a warning) when ``external_service_allow_on_failure`` is set.
* on-end is told after a lease ended or was deleted; it is best effort: any
  2xx is success, failures are retried ``external_service_on_end_attempts``
  times with a doubling delay, then logged.

A hook with no URL configured is skipped.

The calls go through a keystoneauth session configured by the
``[external_service]`` options: ``cafile`` (the CA bundle that signs an
https service's certificate), ``certfile`` and ``keyfile`` (a client
certificate, for a service that asks for one), ``insecure`` (no
verification: tests only) and ``timeout``.
"""
import logging
import threading
import time

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_serialization import jsonutils

from blazar.conf import enforcement as enforcement_conf
from blazar.enforcement.filters import base

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

HOOKS = {'check_create': ('external_service_check_create_endpoint', 'check-create'),
         'check_update': ('external_service_check_update_endpoint', 'check-update'),
         'on_end': ('external_service_on_end_endpoint', 'on-end')}
RULE = 'external_service'
MAX_MESSAGE = 1000


def endpoint(hook):
    """The URL of a hook, or None when none is configured."""
    option, suffix = HOOKS[hook]
    url = CONF.enforcement[option]
    if url:
        return url
    base_url = CONF.enforcement.external_service_base_endpoint
    if base_url:
        return base_url.rstrip('/') + '/' + suffix
    return None


def _option(group, name):
    try:
        return CONF[group][name]
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return None


def context_payload(context, lease=None):
    """Who asks. Work of the service itself (a lease reaching its end) is
    reported as the lease's owner."""
    values = {'user_id': getattr(context, 'user_id', None),
              'project_id': getattr(context, 'project_id', None),
              'roles': list(getattr(context, 'roles', None) or []),
              'is_admin': bool(getattr(context, 'is_admin', False)),
              'request_id': getattr(context, 'request_id', None),
              'auth_url': _option('nova', 'auth_url'),
              'region_name': _option('nova', 'region_name')}
    if lease is not None and values['project_id'] is None:
        values.update(user_id=lease.get('user_id'), project_id=lease.get('project_id'))
    return values


_SESSION = {'key': None, 'session': None}
_SESSION_LOCK = threading.Lock()
_SESSION_OPTIONS = ('cafile', 'certfile', 'keyfile', 'insecure', 'timeout')


def timeout():
    """Seconds to wait for an answer."""
    return CONF[enforcement_conf.SESSION_GROUP].timeout or \
        CONF.enforcement.external_service_timeout


def session():
    """The keystoneauth session of the policy service calls, made again
    when its options change (a reload)."""
    group = CONF[enforcement_conf.SESSION_GROUP]
    key = tuple(group[name] for name in _SESSION_OPTIONS)
    with _SESSION_LOCK:
        if _SESSION['key'] != key:
            _SESSION['session'] = ks_loading.load_session_from_conf_options(
                CONF, enforcement_conf.SESSION_GROUP)
            _SESSION['key'] = key
        return _SESSION['session']


def _refusal_message(response):
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get('message'):
        return str(body['message'])[:MAX_MESSAGE]
    if body is None and response.text.strip() and \
            response.headers.get('Content-Type', '').startswith('text/plain'):
        return response.text.strip()[:MAX_MESSAGE]
    return 'Refused by the usage policy service.'


class ExternalServiceFilter(base.BaseFilter):
    # Asked before the allocation lock is taken (blazar/enforcement/engine.py).
    remote = True

    @staticmethod
    def _post(url, payload):
        headers = {'Content-Type': 'application/json', 'Accept': 'application/json'}
        if CONF.enforcement.external_service_token:
            headers['X-Auth-Token'] = CONF.enforcement.external_service_token
        return session().post(url, data=jsonutils.dumps(payload), headers=headers,
                              timeout=timeout(), redirect=False, raise_exc=False,
                              authenticated=False, log=False)

    def check_create(self, context, lease):
        self._check('check_create', {'context': context_payload(context, lease),
                                     'lease': lease})

    def check_update(self, context, current_lease, new_lease):
        self._check('check_update', {'context': context_payload(context, new_lease),
                                     'current_lease': current_lease,
                                     'lease': new_lease})

    def _check(self, hook, payload):
        url = endpoint(hook)
        if url is None:
            return
        try:
            response = self._post(url, payload)
        except (ks_exc.ConnectTimeout, ks_exc.RequestTimeout):
            problem = 'no answer within %g seconds' % timeout()
        except ks_exc.SSLError as exc:
            problem = 'its TLS certificate could not be verified'
            LOG.debug('Policy service %s: %s', url, exc)
        except ks_exc.ClientException as exc:
            problem = 'it could not be reached'
            LOG.debug('Policy service %s: %s', url, exc)
        else:
            if response.status_code == 204:
                return
            if response.status_code == 403:
                self.refuse(RULE, _refusal_message(response))
            problem = 'it answered HTTP %d' % response.status_code
        if CONF.enforcement.external_service_allow_on_failure:
            LOG.warning('Usage policy service %s could not check lease %s (%s); '
                        'allowed by external_service_allow_on_failure', url,
                        payload['lease'].get('id'), problem)
            return
        LOG.warning('Usage policy service %s could not check lease %s: %s', url,
                    payload['lease'].get('id'), problem)
        self.refuse(RULE, 'The usage policy service could not check this lease '
                          '(%s); please try again later.' % problem)

    def on_end(self, context, lease):
        url = endpoint('on_end')
        if url is None:
            return
        payload = {'context': context_payload(context, lease), 'lease': lease}
        attempts = CONF.enforcement.external_service_on_end_attempts
        delay = CONF.enforcement.external_service_on_end_retry_delay
        for attempt in range(1, attempts + 1):
            try:
                response = self._post(url, payload)
                if 200 <= response.status_code < 300:
                    return
                problem = 'HTTP %d' % response.status_code
            except ks_exc.ClientException as exc:
                problem = '%s: %s' % (type(exc).__name__, exc)
            if attempt < attempts:
                LOG.info('on-end of lease %s to %s failed (%s), attempt %d of %d; '
                         'retrying in %g s', lease.get('id'), url, problem, attempt,
                         attempts, delay)
                time.sleep(delay)
                delay *= 2
        LOG.warning('Gave up telling %s that lease %s ended, after %d attempts: %s',
                    url, lease.get('id'), attempts, problem)

"""Authorisation: the API checks each call against policy before the RPC."""
import threading

from oslo_config import cfg
from oslo_policy import policy

from blazar import exceptions
from blazar import policies

CONF = cfg.CONF
_lock = threading.Lock()
_enforcer = None


def init():
    global _enforcer
    with _lock:
        if _enforcer is None:
            _enforcer = policy.Enforcer(CONF)
            _enforcer.register_defaults(policies.list_rules())
        return _enforcer


def reset():
    global _enforcer
    with _lock:
        if _enforcer is not None:
            _enforcer.clear()
        _enforcer = None


def get_enforcer():
    """For oslopolicy-* tools."""
    CONF([], project='blazar')
    return init()


def default_target(context):
    return {'project_id': context.project_id, 'user_id': context.user_id}


def authorize(context, action, target=None):
    """Raise PolicyNotAuthorized (403) unless the rule allows it."""
    init().authorize(action, target or default_target(context), context,
                     do_raise=True, exc=exceptions.PolicyNotAuthorized, action=action)


def check(context, action, target=None):
    return init().authorize(action, target or default_target(context), context,
                            do_raise=False)


def is_admin(context):
    return check(context, 'admin')

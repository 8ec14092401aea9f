"""blazar-status: ``blazar-status [--config-file F] upgrade check``.

Run before (re)starting the services on new code. Each check answers
Success, Warning (look into it; the service may still work) or Failure
(fix it first); the exit code is the worst result (0, 1 or 2), 255 when a
check itself crashed. ``--json`` prints the results as JSON.

The checks:

* Database: the schema is at the migration this code needs; or an upstream
  Blazar 18 schema to convert (``blazar-db-manage upgrade head``), or an
  unknown one.
* Resource plugins: every ``[manager] plugins`` entry loads.
* Nova freepool aggregate: ``[nova] aggregate_freepool_name`` exists in
  Nova (a warning when Nova is not configured or does not answer).
* Deprecated options: the configuration files set no option that is
  deprecated (an old name or group, or an option due for removal), upstream
  Blazar's options included: each is named with the option of this service
  it stands for, or why it is ignored (blazar/conf/upstream.py).
* Policy file: not in the deprecated JSON format.
* Keystone trusts: with ``auth_strategy = keystone``, the ``[trustee]``
  service user that lease trusts are delegated to can authenticate.
"""
import glob
import os
import sys

from oslo_config import cfg
from oslo_upgradecheck import common_checks
from oslo_upgradecheck import upgradecheck
import sqlalchemy as sa
from stevedore import named

from blazar import conf as blazar_conf  # noqa: F401  registers options

CONF = cfg.CONF
SUCCESS = upgradecheck.Code.SUCCESS
WARNING = upgradecheck.Code.WARNING
FAILURE = upgradecheck.Code.FAILURE

# The option namespaces a deployment's blazar.conf may use (as in
# etc/blazar/blazar-config-generator.conf).
OPTION_NAMESPACES = ('blazar', 'oslo.db', 'oslo.log', 'oslo.messaging',
                     'oslo.policy', 'oslo.middleware',
                     'keystonemiddleware.auth_token')
UPGRADE_HINT = ('run "blazar-db-manage --config-file <file> upgrade head"')


def Result(code, details=None):
    return upgradecheck.Result(code, details)


def _describe_error(exc):
    text = str(exc).strip().splitlines()
    return '%s: %s' % (type(exc).__name__, text[0] if text else '')


# --- database ----------------------------------------------------------

def check_database():
    from blazar.db import migration
    try:
        head = migration.head_revision()
        current = migration.current_revision()
    except Exception as exc:  # unreachable server, bad URL, no driver...
        return Result(FAILURE, 'Cannot read the schema version from the '
                               'database [database] connection: %s'
                      % _describe_error(exc))
    if current is None:
        return Result(FAILURE, 'The database has no Blazar schema: %s.'
                      % UPGRADE_HINT)
    if current == head:
        return Result(SUCCESS, 'Schema at %s (latest).' % head)
    try:
        found = migration.describe_upstream()
    except Exception as exc:
        return Result(FAILURE, 'Cannot read the database: %s' % _describe_error(exc))
    if found is not None:
        return _upstream_result(found, head)
    try:
        known = migration.scripts().get_revision(current) is not None
    except Exception:
        known = False
    if not known:
        return Result(FAILURE, 'The database schema is at %s, an unknown revision: '
                               'neither one of this code nor upstream Blazar 18\'s '
                               '(%s). Was the database upgraded by a newer release '
                               'of this service? This code needs %s.'
                      % (current, migration.upstream.UPSTREAM_HEAD, head))
    return Result(FAILURE, 'The database schema is at %s, the code needs %s: '
                           '%s.' % (current, head, UPGRADE_HINT))


def _upstream_result(found, head):
    from blazar.db.migration import upstream
    if not found['convertible']:
        return Result(FAILURE, upstream.older_revision_message(found['revision']))
    counts = ', '.join('%d %s' % (n, name) for name, n in sorted(found['counts'].items()))
    if found['interrupted']:
        return Result(FAILURE, 'A conversion of this upstream Blazar 18 database '
                               '(%s) was interrupted: run "blazar-db-manage '
                               '--config-file <file> upgrade head" again to finish '
                               'it.' % counts)
    return Result(FAILURE, 'The database holds upstream Blazar 18\'s schema '
                           '(revision %s; %s), to be converted in place to this '
                           'service\'s schema (%s): back the database up, then %s '
                           '(doc/source/admin/upgrade-from-upstream.rst).'
                  % (found['revision'], counts, head, UPGRADE_HINT))


# --- plugins -----------------------------------------------------------

def check_plugins():
    from blazar import plugins
    names = list(CONF.manager.plugins or [])
    if not names:
        return Result(WARNING, '[manager] plugins is empty: no reservation '
                               'of any resource type can be made.')
    try:
        loaded = plugins.load(names)
    except plugins.PluginConfigurationError as exc:
        return Result(FAILURE, '%s. Check [manager] plugins (entry points of '
                               'the %s namespace).' % (exc, plugins.NAMESPACE))
    skipped = plugins.skipped_upstream(names)
    used = [name for name in names if name not in skipped]
    text = 'Loaded: %s.' % ', '.join(
        '%s (%s)' % (name, plugin.resource_type)
        for name, plugin in zip(used, loaded.values(), strict=False))
    if skipped:
        return Result(WARNING, text + ' ' + ' '.join(
            "Skipped upstream Blazar's %s: %s." % (name, why)
            for name, why in skipped.items()))
    return Result(SUCCESS, text)


# --- Nova freepool ---------------------------------------------------

def _enrolled_host_count():
    """Hosts in the store, or None when it cannot be read."""
    from blazar.db import api as db_api
    try:
        with db_api.get_engine().connect() as connection:
            return connection.execute(
                sa.text('SELECT COUNT(*) FROM computehosts')).scalar()
    except Exception:
        return None


def check_freepool():
    from blazar import exceptions
    from blazar.clients import nova
    name = CONF.nova.aggregate_freepool_name
    if not CONF.nova.auth_type:
        return Result(WARNING, 'Nova is not configured ([nova] auth_type is '
                               'not set): the freepool aggregate %r could not '
                               'be checked.' % name)
    try:
        aggregate = nova.get_client().find_aggregate(name)
    except exceptions.BlazarException as exc:
        return Result(WARNING, 'Nova could not be asked for the freepool '
                               'aggregate %r: %s' % (name, exc))
    except Exception as exc:  # a bad [nova] option the client rejects
        return Result(WARNING, 'Nova could not be asked for the freepool '
                               'aggregate %r: %s' % (name, _describe_error(exc)))
    if aggregate is not None:
        return Result(SUCCESS, 'Aggregate %r (id %s) holds %d host(s).'
                      % (name, aggregate['id'], len(aggregate['hosts'])))
    enrolled = _enrolled_host_count()
    if enrolled:
        return Result(FAILURE, 'No aggregate %r in Nova, but %d host(s) are '
                               'enrolled in Blazar: the hosts that are in no '
                               'reservation are unprotected. Create it '
                               '("openstack aggregate create %s") and add '
                               'those hosts, or check [nova] '
                               'aggregate_freepool_name.'
                      % (name, enrolled, name))
    return Result(WARNING, 'No aggregate %r in Nova yet; it is created when '
                           'the first host is enrolled. Check that [nova] '
                           'aggregate_freepool_name matches the blazar-nova '
                           'filter setting.' % name)


# --- Keystone trusts ---------------------------------------------------

def check_trustee():
    from blazar import exceptions
    from blazar.clients import keystone
    if not keystone.enabled():
        return Result(SUCCESS, 'auth_strategy = %s: leases hold no Keystone '
                               'trust.' % CONF.auth_strategy)
    try:
        user_id = keystone.trustee_user_id()
    except exceptions.IdentityUnavailable as exc:
        return Result(WARNING, 'Keystone could not be asked whether the '
                               '[trustee] service user authenticates: %s' % exc)
    except exceptions.BlazarException as exc:
        return Result(FAILURE, 'Lease creation needs a trust to the [trustee] '
                               'service user: %s' % exc)
    except Exception as exc:  # a bad [trustee] option keystoneauth rejects
        return Result(FAILURE, 'Lease creation needs a trust to the [trustee] '
                               'service user: %s' % _describe_error(exc))
    return Result(SUCCESS, 'Lease trusts are delegated to the [trustee] '
                           'service user %s.' % user_id)


# --- deprecated options ------------------------------------------------

def option_sources():
    """(group, [opts]) pairs of every option namespace a deployment uses."""
    manager = named.NamedExtensionManager(
        'oslo.config.opts', names=list(OPTION_NAMESPACES),
        on_load_failure_callback=None, invoke_on_load=True)
    for extension in manager:
        for group, opts in extension.obj:
            yield getattr(group, 'name', group), opts


def _config_files():
    files = list(CONF.config_file or [])
    for directory in CONF.config_dir or []:
        files.extend(sorted(glob.glob(os.path.join(directory, '*.conf'))))
    return [f for f in files if os.path.isfile(f)]


def _section(name):
    return 'DEFAULT' if name in (None, 'DEFAULT') else name.lower()


def _key(name):
    return name.replace('-', '_')


def _set_options():
    """{(section, key): file} for every option the configuration files set."""
    found = {}
    for path in _config_files():
        sections = {}
        cfg.ConfigParser(path, sections).parse()
        for section, values in sections.items():
            for key in values:
                found.setdefault((_section(section), _key(key)), path)
    return found


def deprecated_in_use(set_options, sources):
    """Messages, one per deprecated option the files set (an old name that
    several options read names them all), in the order found."""
    removal, renamed = {}, {}
    for group, opts in sources:
        section = _section(group)
        for opt in opts:
            current = (section, _key(opt.name))
            if opt.deprecated_for_removal and current in set_options:
                removal.setdefault(current, opt.deprecated_reason)
            for old in opt.deprecated_opts:
                old_key = (_section(old.group or group), _key(old.name or opt.name))
                if old_key != current and old_key in set_options:
                    targets = renamed.setdefault(old_key, [])
                    if current not in targets:
                        targets.append(current)
    messages = []
    for key, reason in removal.items():
        if key in renamed:
            continue
        messages.append('[%s] %s is deprecated for removal%s; set in %s.'
                        % (key[0], key[1], ' (%s)' % reason if reason else '',
                           set_options[key]))
    for key, targets in renamed.items():
        messages.append('[%s] %s is deprecated, use %s instead; set in %s.'
                        % (key[0], key[1], ', '.join('[%s] %s' % t for t in targets),
                           set_options[key]))
    return messages


def upstream_ignored_in_use(set_options):
    """Messages, one per upstream Blazar option the files set that this
    service ignores, saying why."""
    from blazar.conf import upstream
    return ["[%s] %s is upstream Blazar's option, ignored here: %s; set in %s."
            % (group, name, reason, set_options[(_section(group), name)])
            for group, name, reason, _secret in upstream.IGNORED
            if (_section(group), name) in set_options]


def check_deprecated_options():
    try:
        set_options = _set_options()
    except Exception as exc:
        return Result(WARNING, 'Could not read the configuration files: %s'
                      % _describe_error(exc))
    messages = deprecated_in_use(set_options, option_sources())
    messages += upstream_ignored_in_use(set_options)
    if messages:
        return Result(WARNING, ' '.join(messages))
    return Result(SUCCESS, 'No deprecated option is set.')


class Checks(upgradecheck.UpgradeCommands):
    """The checks of ``blazar-status upgrade check``, in order."""

    _upgrade_checks = (
        ('Database schema', lambda self: check_database()),
        ('Resource plugins', lambda self: check_plugins()),
        ('Nova freepool aggregate', lambda self: check_freepool()),
        ('Deprecated options', lambda self: check_deprecated_options()),
        ('Keystone trusts', lambda self: check_trustee()),
        ('Policy File JSON to YAML Migration',
         (common_checks.check_policy_json, {'conf': CONF})),
    )


def main(argv=None):
    return upgradecheck.main(CONF, project='blazar', upgrade_command=Checks(),
                             argv=sys.argv[1:] if argv is None else argv)


if __name__ == '__main__':
    sys.exit(main())

"""blazar-db-manage: schema migrations.

``upgrade [REVISION]`` (default head; converts an upstream Blazar 18
database first, see blazar/db/migration/upstream.py), ``downgrade``,
``stamp``, ``current``, ``head``, ``history``, ``check_migration`` (the
database's schema against this code's models) and, for developers,
``revision -m MESSAGE [--autogenerate]``.
"""
import sys

from oslo_config import cfg

from blazar import conf as blazar_conf  # noqa: F401  registers the options
from blazar.db import migration

CONF = cfg.CONF


def _upgrade():
    report = migration.upgrade(CONF.command.revision)
    if report is not None:
        print('\n'.join(report.lines()))
    print('Schema at %s.' % migration.current_revision())


def _history():
    migration.history(verbose=CONF.command.verbose)


def _revision():
    path = migration.revision(CONF.command.message, autogenerate=CONF.command.autogenerate)
    print('New revision: %s' % path)


def _check_migration():
    problems = migration.check_schema()
    for line in problems:
        print(line)
    if problems:
        raise SystemExit(1)
    print('The schema matches the models of this code (revision %s).'
          % migration.current_revision())


def _add_commands(subparsers):
    up = subparsers.add_parser('upgrade', help='Upgrade the schema (an upstream Blazar '
                               '18 database is converted first).')
    up.add_argument('revision', nargs='?', default='head')
    up.set_defaults(func=_upgrade)
    down = subparsers.add_parser('downgrade', help='Downgrade the schema.')
    down.add_argument('revision')
    down.set_defaults(func=lambda: migration.downgrade(CONF.command.revision))
    stamp = subparsers.add_parser('stamp', help='Mark the schema as at a revision.')
    stamp.add_argument('revision')
    stamp.set_defaults(func=lambda: migration.stamp(CONF.command.revision))
    current = subparsers.add_parser('current', help='Show the current revision.')
    current.set_defaults(func=lambda: print(migration.current_revision() or 'None'))
    head = subparsers.add_parser('head', help='Show the latest revision.')
    head.set_defaults(func=lambda: print(migration.head_revision()))
    history = subparsers.add_parser('history', help='List the revisions, newest first.')
    history.add_argument('--verbose', '-v', action='store_true')
    history.set_defaults(func=_history)
    check = subparsers.add_parser(
        'check_migration', help='Check that the database schema (upgraded to head) is '
        'the one the models of this code describe; exit 1 listing the differences.')
    check.set_defaults(func=_check_migration)
    revision = subparsers.add_parser('revision', help='Write a new revision script '
                                     '(for developers).')
    revision.add_argument('-m', '--message', required=True)
    revision.add_argument('--autogenerate', action='store_true',
                          help='Fill it with the differences between the models and '
                               'the configured database (at head).')
    revision.set_defaults(func=_revision)


def main(argv=None):
    CONF.register_cli_opt(cfg.SubCommandOpt('command', handler=_add_commands))
    CONF(sys.argv[1:] if argv is None else argv, project='blazar')
    try:
        CONF.command.func()
    except migration.ConversionError as exc:
        sys.stderr.write('blazar-db-manage: %s\n' % exc)
        raise SystemExit(1)


if __name__ == '__main__':
    main()

"""blazar-db-manage: schema migrations (``upgrade head``, ``current``...)."""
import sys

from oslo_config import cfg

from blazar import conf as blazar_conf  # noqa: F401  registers the options
from blazar.db import migration

CONF = cfg.CONF


def _add_commands(subparsers):
    up = subparsers.add_parser('upgrade', help='Upgrade the schema.')
    up.add_argument('revision', nargs='?', default='head')
    up.set_defaults(func=lambda: migration.upgrade(CONF.command.revision))
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


def main(argv=None):
    CONF.register_cli_opt(cfg.SubCommandOpt('command', handler=_add_commands))
    CONF(sys.argv[1:] if argv is None else argv, project='blazar')
    CONF.command.func()


if __name__ == '__main__':
    main()

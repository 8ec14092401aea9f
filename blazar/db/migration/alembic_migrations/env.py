from alembic import context

from blazar.db import models

target_metadata = models.Base.metadata


def run_migrations_online():
    connection = context.config.attributes['connection']
    # The conversion of an upstream database (blazar.db.migration.upstream)
    # runs revisions 0001-0005 with a version table of its own.
    version_table = context.config.attributes.get('version_table', 'alembic_version')
    context.configure(connection=connection, target_metadata=target_metadata,
                      version_table=version_table,
                      render_as_batch=connection.dialect.name == 'sqlite')
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()

"""When a manager first worked on an intent: a reservation whose cloud
objects are made only shortly before its start (``[manager]
prepare_ahead``) and that is deleted before then leaves nothing to remove
(blazar/db/api/intents.py).

Intents already in the store may have been worked on: they count as
touched.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cloud_intents', sa.Column('touched_at', sa.DateTime))
    op.execute(sa.text('UPDATE cloud_intents SET touched_at = created_at'))


def downgrade():
    op.drop_column('cloud_intents', 'touched_at')

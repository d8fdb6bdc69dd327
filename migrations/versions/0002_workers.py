"""outbox.retry: the RQ retry policy a job is relayed with

Revision ID: 0002_workers
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_workers"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("retry")

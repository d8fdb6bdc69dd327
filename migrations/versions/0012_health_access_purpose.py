"""health access purpose: the health-data access log says from where (IP), in which console session and
for what each read was made, and may record aggregate reads (a campaign audience's count) that name no
single resident

Revision ID: 0012_health_access_purpose
Revises: 0011_login_throttle
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_health_access_purpose"
down_revision = "0011_login_throttle"
branch_labels = None
depends_on = None

# what the reads logged before this revision were for, from their action
_PURPOSES = {"list": "list", "view": "resident_file", "refused": "resident_file",
             "colour_override": "colour_change"}


def upgrade():
    with op.batch_alter_table("health_access_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(length=30), server_default="", nullable=False))
        batch_op.add_column(sa.Column("ip", sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column("session_ref", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("detail", sa.Text(), server_default="", nullable=False))
        batch_op.alter_column("resident_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_health_access_log_purpose"), ["purpose"], unique=False)
    log = sa.table("health_access_log", sa.column("action", sa.String), sa.column("purpose", sa.String))
    for action, purpose in _PURPOSES.items():
        op.execute(log.update().where(log.c.action == action).values(purpose=purpose))


def downgrade():
    log = sa.table("health_access_log", sa.column("resident_id", sa.Integer))
    op.execute(log.delete().where(log.c.resident_id.is_(None)))  # aggregate reads have no place in the old shape
    with op.batch_alter_table("health_access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_access_log_purpose"))
        batch_op.alter_column("resident_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("detail")
        batch_op.drop_column("session_ref")
        batch_op.drop_column("ip")
        batch_op.drop_column("purpose")

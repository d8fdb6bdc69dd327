"""sessions: a staff member's session version (bumped at logout and password change, so an old
console cookie stops working) and a mini-program user's token version (bumped to revoke tokens)

Revision ID: 0010_sessions
Revises: 0009_parking
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_sessions"
down_revision = "0009_parking"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("wxa_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("wxa_session", schema=None) as batch_op:
        batch_op.drop_column("token_version")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("session_version")

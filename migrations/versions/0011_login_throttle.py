"""login throttle: console login attempts counted in the database while Redis is down (one row per
username-at-address or address counter, keyed by a hash), so staff can still sign in and guessing stays limited

Revision ID: 0011_login_throttle
Revises: 0010_sessions
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_login_throttle"
down_revision = "0010_sessions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('window_ends_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )


def downgrade():
    op.drop_table('login_throttle')

"""activities: clubs, members, sessions, activities, sign-ups

Revision ID: 0020_activities
Revises: 0019_welfare
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0020_activities"
down_revision = "0019_welfare"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

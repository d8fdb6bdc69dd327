"""merchants: directory, coupons and redemptions

Revision ID: 0021_merchants
Revises: 0020_activities
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0021_merchants"
down_revision = "0020_activities"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

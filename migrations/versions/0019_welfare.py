"""welfare: watched residents, consent, modes, signals and checks

Revision ID: 0019_welfare
Revises: 0018_device_rules
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0019_welfare"
down_revision = "0018_device_rules"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

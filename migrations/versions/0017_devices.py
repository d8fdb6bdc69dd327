"""devices: the device registry, events, commands and alarms

Revision ID: 0017_devices
Revises: 0016_faq
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0017_devices"
down_revision = "0016_faq"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

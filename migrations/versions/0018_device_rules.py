"""device rules: façade grids, evidence, lift holds, mist curtain and sensor state

Revision ID: 0018_device_rules
Revises: 0017_devices
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0018_device_rules"
down_revision = "0017_devices"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

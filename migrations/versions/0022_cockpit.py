"""cockpit: snapshots, display tokens, streets

Revision ID: 0022_cockpit
Revises: 0021_merchants
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0022_cockpit"
down_revision = "0021_merchants"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

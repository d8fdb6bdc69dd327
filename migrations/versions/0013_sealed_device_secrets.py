"""sealed device secrets: parking_device.secret holds a Fernet token now (about 190 characters), not
the 64-character secret itself

Revision ID: 0013_sealed_device_secrets
Revises: 0012_health_access_purpose
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_sealed_device_secrets"
down_revision = "0012_health_access_purpose"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("parking_device", schema=None) as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=128), type_=sa.String(length=255),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table("parking_device", schema=None) as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=255), type_=sa.String(length=128),
                              existing_nullable=False)

"""seen_nonce: the /wechat replay guard's memory while Redis is down

Revision ID: 0015_seen_nonce
Revises: 0014_vehicle_claims
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_seen_nonce"
down_revision = "0014_vehicle_claims"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "seen_nonce",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("body_digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_seen_nonce")),
    )
    op.create_index(op.f("ix_seen_nonce_expires_at"), "seen_nonce", ["expires_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_seen_nonce_expires_at"), table_name="seen_nonce")
    op.drop_table("seen_nonce")

"""merchants: directory, coupons and redemptions

Revision ID: 0021_merchants
Revises: 0020_activities
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_merchants"
down_revision = "0020_activities"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("merchant",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("community_id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=60), nullable=False),
    sa.Column("kind", sa.String(length=30), nullable=False),
    sa.Column("keywords", sa.JSON(), nullable=False),
    sa.Column("address", sa.String(length=120), nullable=False),
    sa.Column("walk_minutes", sa.Integer(), nullable=False),
    sa.Column("opens", sa.String(length=5), nullable=False),
    sa.Column("closes", sa.String(length=5), nullable=False),
    sa.Column("rest_weekday", sa.Integer(), nullable=True),
    sa.Column("phone", sa.String(length=20), nullable=False),
    sa.Column("licence_no", sa.String(length=40), nullable=False),
    sa.Column("licence_verified", sa.Boolean(), nullable=False),
    sa.Column("status", sa.String(length=10), nullable=False),
    sa.Column("redeem_token_hash", sa.String(length=64), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_merchant_community_id_community")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant")),
    sa.UniqueConstraint("community_id", "name", name=op.f("uq_merchant_community_id_name")),
    sa.UniqueConstraint("redeem_token_hash", name=op.f("uq_merchant_redeem_token_hash"))
    )
    with op.batch_alter_table("merchant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_merchant_community_id"), ["community_id"], unique=False)

    op.create_table("coupon",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("merchant_id", sa.Integer(), nullable=False),
    sa.Column("title", sa.String(length=60), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("value_cents", sa.Integer(), nullable=False),
    sa.Column("stock", sa.Integer(), nullable=False),
    sa.Column("claimed", sa.Integer(), nullable=False),
    sa.Column("per_resident", sa.Integer(), nullable=False),
    sa.Column("valid_until", sa.DateTime(), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.CheckConstraint("claimed >= 0 AND claimed <= stock", name=op.f("ck_coupon_stock")),
    sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"], name=op.f("fk_coupon_merchant_id_merchant"),
                            ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon"))
    )
    with op.batch_alter_table("coupon", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coupon_merchant_id"), ["merchant_id"], unique=False)

    op.create_table("coupon_claim",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("coupon_id", sa.Integer(), nullable=False),
    sa.Column("merchant_id", sa.Integer(), nullable=False),
    sa.Column("resident_id", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(length=10), nullable=False),
    sa.Column("code", sa.String(length=6), nullable=True),
    sa.Column("code_expires_at", sa.DateTime(), nullable=True),
    sa.Column("claimed_at", sa.DateTime(), nullable=False),
    sa.Column("redeemed_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["coupon_id"], ["coupon.id"], name=op.f("fk_coupon_claim_coupon_id_coupon"),
                            ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"], name=op.f("fk_coupon_claim_merchant_id_merchant"),
                            ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], name=op.f("fk_coupon_claim_resident_id_resident"),
                            ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_claim"))
    )
    with op.batch_alter_table("coupon_claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coupon_claim_coupon_id"), ["coupon_id"], unique=False)
        batch_op.create_index("ix_coupon_claim_merchant_id_code", ["merchant_id", "code"], unique=False)
        batch_op.create_index(batch_op.f("ix_coupon_claim_resident_id"), ["resident_id"], unique=False)


def downgrade():
    with op.batch_alter_table("coupon_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupon_claim_resident_id"))
        batch_op.drop_index("ix_coupon_claim_merchant_id_code")
        batch_op.drop_index(batch_op.f("ix_coupon_claim_coupon_id"))

    op.drop_table("coupon_claim")
    with op.batch_alter_table("coupon", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupon_merchant_id"))

    op.drop_table("coupon")
    with op.batch_alter_table("merchant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_community_id"))

    op.drop_table("merchant")

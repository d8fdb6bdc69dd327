"""notifications, preferences, subscribe grants, campaigns and deliveries

Revision ID: 0003_notifications
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_notifications"
down_revision = "0002_workers"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("deliver_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], ondelete="CASCADE",
                                name=op.f("fk_notification_resident_id_resident")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    op.create_index("ix_notification_resident_id_local_day", "notification", ["resident_id", "local_day"])
    op.create_table(
        "notification_preference",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("muted", sa.JSON(), nullable=False),
        sa.Column("quiet_hours", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], ondelete="CASCADE",
                                name=op.f("fk_notification_preference_resident_id_resident")),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_notification_preference")),
    )
    op.create_table(
        "subscribe_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], ondelete="CASCADE",
                                name=op.f("fk_subscribe_grant_resident_id_resident")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribe_grant")),
        sa.UniqueConstraint("resident_id", "template_id", name=op.f("uq_subscribe_grant_resident_id_template_id")),
    )
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("fanout_done", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_campaign_community_id_community")),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_campaign_created_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    op.create_index(op.f("ix_campaign_community_id"), "campaign", ["community_id"])
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE",
                                name=op.f("fk_delivery_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], ondelete="CASCADE",
                                name=op.f("fk_delivery_resident_id_resident")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("campaign_id", "resident_id", name=op.f("uq_delivery_campaign_id_resident_id")),
    )
    op.create_index("ix_delivery_campaign_id_status", "delivery", ["campaign_id", "status"])


def downgrade():
    op.drop_index("ix_delivery_campaign_id_status", table_name="delivery")
    op.drop_table("delivery")
    op.drop_index(op.f("ix_campaign_community_id"), table_name="campaign")
    op.drop_table("campaign")
    op.drop_table("subscribe_grant")
    op.drop_table("notification_preference")
    op.drop_index("ix_notification_resident_id_local_day", table_name="notification")
    op.drop_table("notification")

"""escalations to staff, internal notes and canned replies

Revision ID: 0005_escalations
Revises: 0004_tickets
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_escalations"
down_revision = "0004_tickets"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("building", sa.String(length=20), nullable=True),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("trigger_message_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(), nullable=False),
        sa.Column("first_response_due", sa.DateTime(), nullable=True),
        sa.Column("resolution_due", sa.DateTime(), nullable=True),
        sa.Column("first_response_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("alerted_at", sa.DateTime(), nullable=True),
        sa.Column("alert_channel", sa.String(length=20), nullable=True),
        sa.Column("first_response_breached_at", sa.DateTime(), nullable=True),
        sa.Column("resolution_breached_at", sa.DateTime(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("satisfaction_asked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"],
                                name=op.f("fk_escalation_conversation_id_conversation")),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], name=op.f("fk_escalation_resident_id_resident")),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"],
                                name=op.f("fk_escalation_community_id_community")),
        sa.ForeignKeyConstraint(["trigger_message_id"], ["message.id"],
                                name=op.f("fk_escalation_trigger_message_id_message")),
        sa.ForeignKeyConstraint(["assignee_id"], ["staff.id"], name=op.f("fk_escalation_assignee_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation")),
        sa.UniqueConstraint("trigger_message_id", name=op.f("uq_escalation_trigger_message_id")),
    )
    op.create_index("ix_escalation_conversation_id", "escalation", ["conversation_id"])
    op.create_index("ix_escalation_resident_id", "escalation", ["resident_id"])
    op.create_index("ix_escalation_status_urgent_created", "escalation", ["status", "urgent", "created_at"])
    op.create_index("ix_escalation_assignee_status", "escalation", ["assignee_id", "status"])
    op.create_index("ix_escalation_community_building", "escalation", ["community_id", "building"])
    op.create_table(
        "escalation_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalation.id"], ondelete="CASCADE",
                                name=op.f("fk_escalation_note_escalation_id_escalation")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_escalation_note_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_note")),
    )
    op.create_index("ix_escalation_note_escalation_id", "escalation_note", ["escalation_id"])
    op.create_table(
        "canned_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=50), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"],
                                name=op.f("fk_canned_reply_community_id_community")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_reply")),
    )
    op.create_index("ix_canned_reply_community_id", "canned_reply", ["community_id"])


def downgrade():
    op.drop_table("canned_reply")
    op.drop_table("escalation_note")
    op.drop_table("escalation")

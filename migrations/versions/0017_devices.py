"""devices: the device registry, events, commands and alarms

Revision ID: 0017_devices
Revises: 0016_faq
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_devices"
down_revision = "0016_faq"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("floor", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=100), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("secret_rotated_at", sa.DateTime(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.Column("battery", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["building_id"], ["building.id"], name=op.f("fk_device_building_id_building"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_device_community_id_community")),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], name=op.f("fk_device_household_id_household"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
        sa.UniqueConstraint("community_id", "code", name=op.f("uq_device_community_id_code"))
    )
    op.create_index(op.f("ix_device_building_id"), "device", ["building_id"], unique=False)
    op.create_index(op.f("ix_device_community_id"), "device", ["community_id"], unique=False)
    op.create_index(op.f("ix_device_household_id"), "device", ["household_id"], unique=False)
    op.create_table("alarm",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=15), nullable=False),
        sa.Column("shelved_until", sa.DateTime(), nullable=True),
        sa.Column("shelve_reason", sa.String(length=200), nullable=True),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("suppressed_until", sa.DateTime(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("acked_at", sa.DateTime(), nullable=True),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("repeat_count", sa.Integer(), nullable=False),
        sa.Column("last_repeat_at", sa.DateTime(), nullable=True),
        sa.Column("group_key", sa.String(length=80), nullable=True),
        sa.Column("confirmed", sa.Boolean(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["assignee_id"], ["staff.id"], name=op.f("fk_alarm_assignee_id_staff"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["building_id"], ["building.id"], name=op.f("fk_alarm_building_id_building"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_alarm_community_id_community")),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_alarm_device_id_device"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm"))
    )
    op.create_index("ix_alarm_community_id_state", "alarm", ["community_id", "state"], unique=False)
    op.create_index("ix_alarm_device_id_type", "alarm", ["device_id", "type"], unique=False)
    op.create_index(op.f("ix_alarm_group_key"), "alarm", ["group_key"], unique=False)
    op.create_table("device_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_device_event_device_id_device"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_event")),
        sa.UniqueConstraint("device_id", "event_id", name=op.f("uq_device_event_device_id_event_id"))
    )
    op.create_index("ix_device_event_device_id_occurred_at", "device_event", ["device_id", "occurred_at"], unique=False)
    op.create_table("alarm_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarm.id"], name=op.f("fk_alarm_entry_alarm_id_alarm"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_alarm_entry_staff_id_staff"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_entry"))
    )
    op.create_index(op.f("ix_alarm_entry_alarm_id"), "alarm_entry", ["alarm_id"], unique=False)
    op.create_table("device_command",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("acked_at", sa.DateTime(), nullable=True),
        sa.Column("deadline_at", sa.DateTime(), nullable=True),
        sa.Column("timeout_s", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarm.id"], name=op.f("fk_device_command_alarm_id_alarm"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_device_command_device_id_device"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_command"))
    )
    op.create_index(op.f("ix_device_command_device_id"), "device_command", ["device_id"], unique=False)
    op.create_index("ix_device_command_status_deadline_at", "device_command", ["status", "deadline_at"], unique=False)


def downgrade():
    op.drop_index("ix_device_command_status_deadline_at", table_name="device_command")
    op.drop_index(op.f("ix_device_command_device_id"), table_name="device_command")
    op.drop_table("device_command")
    op.drop_index(op.f("ix_alarm_entry_alarm_id"), table_name="alarm_entry")
    op.drop_table("alarm_entry")
    op.drop_index("ix_device_event_device_id_occurred_at", table_name="device_event")
    op.drop_table("device_event")
    op.drop_index(op.f("ix_alarm_group_key"), table_name="alarm")
    op.drop_index("ix_alarm_device_id_type", table_name="alarm")
    op.drop_index("ix_alarm_community_id_state", table_name="alarm")
    op.drop_table("alarm")
    op.drop_index(op.f("ix_device_community_id"), table_name="device")
    op.drop_index(op.f("ix_device_household_id"), table_name="device")
    op.drop_index(op.f("ix_device_building_id"), table_name="device")
    op.drop_table("device")

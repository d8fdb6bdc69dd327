"""welfare: watched residents, consent, modes, signals and checks

Revision ID: 0019_welfare
Revises: 0018_device_rules
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_welfare"
down_revision = "0018_device_rules"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("welfare_watch",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("community_id", sa.Integer(), nullable=False),
    sa.Column("resident_id", sa.Integer(), nullable=False),
    sa.Column("household_id", sa.Integer(), nullable=True),
    sa.Column("building", sa.String(length=20), nullable=False),
    sa.Column("consent_by", sa.String(length=50), nullable=False),
    sa.Column("consent_relation", sa.String(length=10), nullable=False),
    sa.Column("consent_phone", sa.String(length=20), nullable=True),
    sa.Column("consented_at", sa.DateTime(), nullable=False),
    sa.Column("consent_recorded_by_id", sa.Integer(), nullable=True),
    sa.Column("family_name", sa.String(length=50), nullable=True),
    sa.Column("family_phone", sa.String(length=20), nullable=True),
    sa.Column("threshold_hours", sa.Integer(), nullable=False),
    sa.Column("risk", sa.String(length=10), nullable=False),
    sa.Column("signals", sa.JSON(), nullable=False),
    sa.Column("lift_card", sa.String(length=32), nullable=True),
    sa.Column("mode", sa.String(length=10), nullable=False),
    sa.Column("mode_until", sa.DateTime(), nullable=True),
    sa.Column("mode_set_by", sa.String(length=60), nullable=False),
    sa.Column("last_activity_at", sa.DateTime(), nullable=False),
    sa.Column("last_activity_kind", sa.String(length=20), nullable=False),
    sa.Column("timer_from", sa.DateTime(), nullable=False),
    sa.Column("due_at", sa.DateTime(), nullable=True),
    sa.Column("false_alarms", sa.Integer(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_welfare_watch_community_id_community")),
    sa.ForeignKeyConstraint(["consent_recorded_by_id"], ["staff.id"], name=op.f("fk_welfare_watch_consent_recorded_by_id_staff"), ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["household_id"], ["household.id"], name=op.f("fk_welfare_watch_household_id_household")),
    sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], name=op.f("fk_welfare_watch_resident_id_resident"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_welfare_watch")),
    sa.UniqueConstraint("resident_id", name=op.f("uq_welfare_watch_resident_id"))
    )
    with op.batch_alter_table("welfare_watch", schema=None) as batch_op:
        batch_op.create_index("ix_welfare_watch_community_building", ["community_id", "building"], unique=False)
        batch_op.create_index("ix_welfare_watch_due", ["active", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_welfare_watch_family_phone"), ["family_phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_welfare_watch_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_welfare_watch_lift_card"), ["lift_card"], unique=False)
        batch_op.create_index(batch_op.f("ix_welfare_watch_mode_until"), ["mode_until"], unique=False)
    op.create_table("welfare_signal",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("watch_id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(length=20), nullable=False),
    sa.Column("last_at", sa.DateTime(), nullable=True),
    sa.Column("last_value", sa.Float(), nullable=True),
    sa.Column("last_reading_at", sa.DateTime(), nullable=True),
    sa.Column("device_id", sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_welfare_signal_device_id_device"), ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["watch_id"], ["welfare_watch.id"], name=op.f("fk_welfare_signal_watch_id_welfare_watch"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_welfare_signal")),
    sa.UniqueConstraint("watch_id", "kind", name=op.f("uq_welfare_signal_watch_id_kind"))
    )
    op.create_table("welfare_check",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("community_id", sa.Integer(), nullable=False),
    sa.Column("watch_id", sa.Integer(), nullable=False),
    sa.Column("resident_id", sa.Integer(), nullable=False),
    sa.Column("building", sa.String(length=20), nullable=False),
    sa.Column("status", sa.String(length=10), nullable=False),
    sa.Column("level", sa.Integer(), nullable=False),
    sa.Column("crossed_at", sa.DateTime(), nullable=False),
    sa.Column("raised_at", sa.DateTime(), nullable=False),
    sa.Column("notified_at", sa.DateTime(), nullable=True),
    sa.Column("escalated_at", sa.DateTime(), nullable=True),
    sa.Column("silent", sa.JSON(), nullable=False),
    sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
    sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
    sa.Column("outcome", sa.String(length=20), nullable=True),
    sa.Column("outcome_note", sa.Text(), nullable=False),
    sa.Column("photo", sa.String(length=100), nullable=True),
    sa.Column("closed_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["acknowledged_by_id"], ["staff.id"], name=op.f("fk_welfare_check_acknowledged_by_id_staff"), ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_welfare_check_community_id_community")),
    sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], name=op.f("fk_welfare_check_resident_id_resident"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["watch_id"], ["welfare_watch.id"], name=op.f("fk_welfare_check_watch_id_welfare_watch"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_welfare_check"))
    )
    with op.batch_alter_table("welfare_check", schema=None) as batch_op:
        batch_op.create_index("ix_welfare_check_community_status", ["community_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_welfare_check_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index("ix_welfare_check_watch_status", ["watch_id", "status"], unique=False)
    op.create_table("welfare_check_entry",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("check_id", sa.Integer(), nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("kind", sa.String(length=20), nullable=False),
    sa.Column("from_status", sa.String(length=20), nullable=True),
    sa.Column("to_status", sa.String(length=20), nullable=True),
    sa.Column("actor_kind", sa.String(length=10), nullable=False),
    sa.Column("actor_id", sa.Integer(), nullable=True),
    sa.Column("actor_name", sa.String(length=50), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["check_id"], ["welfare_check.id"], name=op.f("fk_welfare_check_entry_check_id_welfare_check"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_welfare_check_entry"))
    )
    with op.batch_alter_table("welfare_check_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_welfare_check_entry_check_id"), ["check_id"], unique=False)
    op.create_table("welfare_device_order",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("device_id", sa.Integer(), nullable=False),
    sa.Column("watch_id", sa.Integer(), nullable=False),
    sa.Column("ticket_id", sa.Integer(), nullable=True),
    sa.Column("problem", sa.String(length=20), nullable=False),
    sa.Column("opened_at", sa.DateTime(), nullable=False),
    sa.Column("closed_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_welfare_device_order_device_id_device"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_welfare_device_order_ticket_id_ticket"), ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["watch_id"], ["welfare_watch.id"], name=op.f("fk_welfare_device_order_watch_id_welfare_watch"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_welfare_device_order"))
    )
    with op.batch_alter_table("welfare_device_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_welfare_device_order_device_id"), ["device_id"], unique=False)
        batch_op.create_index("ix_welfare_device_order_device_open", ["device_id", "closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_welfare_device_order_watch_id"), ["watch_id"], unique=False)


def downgrade():
    op.drop_table("welfare_device_order")
    op.drop_table("welfare_check_entry")
    op.drop_table("welfare_check")
    op.drop_table("welfare_signal")
    op.drop_table("welfare_watch")

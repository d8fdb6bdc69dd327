"""device rules: façade grids, evidence, lift holds, mist curtain and sensor state

Revision ID: 0018_device_rules
Revises: 0017_devices
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_device_rules"
down_revision = "0017_devices"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("facade_grid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("floors", sa.Integer(), nullable=False),
        sa.Column("top_floor", sa.Integer(), nullable=False),
        sa.Column("columns", sa.Integer(), nullable=False),
        sa.Column("corners", sa.JSON(), nullable=False),
        sa.Column("column_flats", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["building_id"], ["building.id"], name=op.f("fk_facade_grid_building_id_building"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["camera_id"], ["device.id"], name=op.f("fk_facade_grid_camera_id_device"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_facade_grid_community_id_community")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["staff.id"], name=op.f("fk_facade_grid_updated_by_id_staff"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facade_grid")),
        sa.UniqueConstraint("camera_id", name=op.f("uq_facade_grid_camera_id"))
    )
    op.create_index(op.f("ix_facade_grid_community_id"), "facade_grid", ["community_id"], unique=False)
    op.create_table("evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.Column("camera_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("ref", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("legal_hold", sa.Boolean(), nullable=False),
        sa.Column("hold_reason", sa.String(length=200), nullable=True),
        sa.Column("hold_by_id", sa.Integer(), nullable=True),
        sa.Column("hold_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarm.id"], name=op.f("fk_evidence_alarm_id_alarm"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["camera_id"], ["device.id"], name=op.f("fk_evidence_camera_id_device"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_evidence_community_id_community")),
        sa.ForeignKeyConstraint(["hold_by_id"], ["staff.id"], name=op.f("fk_evidence_hold_by_id_staff"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence"))
    )
    op.create_index(op.f("ix_evidence_alarm_id"), "evidence", ["alarm_id"], unique=False)
    op.create_index("ix_evidence_expires_at_legal_hold", "evidence", ["expires_at", "legal_hold"], unique=False)
    op.create_table("evidence_export",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarm.id"], name=op.f("fk_evidence_export_alarm_id_alarm"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_evidence_export_staff_id_staff"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_export"))
    )
    op.create_index(op.f("ix_evidence_export_alarm_id"), "evidence_export", ["alarm_id"], unique=False)
    op.create_table("ebike_tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_ebike_tag_community_id_community")),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], name=op.f("fk_ebike_tag_resident_id_resident"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebike_tag")),
        sa.UniqueConstraint("community_id", "tag", name=op.f("uq_ebike_tag_community_id_tag"))
    )
    op.create_index(op.f("ix_ebike_tag_resident_id"), "ebike_tag", ["resident_id"], unique=False)
    op.create_table("lift_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.Column("tag", sa.String(length=64), nullable=True),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("detected_at", sa.DateTime(), nullable=False),
        sa.Column("release_due_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.Column("release_reason", sa.String(length=10), nullable=True),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarm.id"], name=op.f("fk_lift_case_alarm_id_alarm"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_lift_case_community_id_community")),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_lift_case_device_id_device"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], name=op.f("fk_lift_case_resident_id_resident"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lift_case"))
    )
    op.create_index("ix_lift_case_device_id_released_at", "lift_case", ["device_id", "released_at"], unique=False)
    op.create_index(op.f("ix_lift_case_tag"), "lift_case", ["tag"], unique=False)
    op.create_table("sensor_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("pending_since", sa.DateTime(), nullable=True),
        sa.Column("last_value", sa.Double(), nullable=True),
        sa.Column("same_count", sa.Integer(), nullable=False),
        sa.Column("last_reading_at", sa.DateTime(), nullable=True),
        sa.Column("silent", sa.Boolean(), nullable=False),
        sa.Column("stuck", sa.Boolean(), nullable=False),
        sa.Column("samples", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_sensor_state_device_id_device"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_state")),
        sa.UniqueConstraint("device_id", "measure", name=op.f("uq_sensor_state_device_id_measure"))
    )
    op.create_table("mist_state",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.Column("pending_since", sa.DateTime(), nullable=True),
        sa.Column("average", sa.Double(), nullable=True),
        sa.Column("blocked_by", sa.String(length=20), nullable=True),
        sa.Column("command_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["command_id"], ["device_command.id"],
                                name=op.f("fk_mist_state_command_id_device_command"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_mist_state_device_id_device"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_mist_state"))
    )


def downgrade():
    op.drop_table("mist_state")
    op.drop_table("sensor_state")
    op.drop_index("ix_lift_case_device_id_released_at", table_name="lift_case")
    op.drop_index(op.f("ix_lift_case_tag"), table_name="lift_case")
    op.drop_table("lift_case")
    op.drop_index(op.f("ix_ebike_tag_resident_id"), table_name="ebike_tag")
    op.drop_table("ebike_tag")
    op.drop_index(op.f("ix_evidence_export_alarm_id"), table_name="evidence_export")
    op.drop_table("evidence_export")
    op.drop_index(op.f("ix_evidence_alarm_id"), table_name="evidence")
    op.drop_index("ix_evidence_expires_at_legal_hold", table_name="evidence")
    op.drop_table("evidence")
    op.drop_index(op.f("ix_facade_grid_community_id"), table_name="facade_grid")
    op.drop_table("facade_grid")

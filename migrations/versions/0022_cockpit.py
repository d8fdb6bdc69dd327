"""cockpit: snapshots, display tokens, streets

Revision ID: 0022_cockpit
Revises: 0021_merchants
"""
import sqlalchemy as sa
from alembic import op

revision = "0022_cockpit"
down_revision = "0021_merchants"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cockpit_street",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cockpit_street")),
        sa.UniqueConstraint("name", name=op.f("uq_cockpit_street_name")),
    )
    op.create_table(
        "cockpit_street_community",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("street_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["street_id"], ["cockpit_street.id"],
                                name=op.f("fk_cockpit_street_community_street_id_cockpit_street"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"],
                                name=op.f("fk_cockpit_street_community_community_id_community"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cockpit_street_community")),
        sa.UniqueConstraint("community_id", name=op.f("uq_cockpit_street_community_community_id")),
    )
    op.create_index(op.f("ix_cockpit_street_community_street_id"), "cockpit_street_community", ["street_id"])
    op.create_table(
        "cockpit_street_admin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("street_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["street_id"], ["cockpit_street.id"],
                                name=op.f("fk_cockpit_street_admin_street_id_cockpit_street"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"],
                                name=op.f("fk_cockpit_street_admin_staff_id_staff"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cockpit_street_admin")),
        sa.UniqueConstraint("staff_id", name=op.f("uq_cockpit_street_admin_staff_id")),
    )
    op.create_index(op.f("ix_cockpit_street_admin_street_id"), "cockpit_street_admin", ["street_id"])
    op.create_table(
        "cockpit_display_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("street_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"],
                                name=op.f("fk_cockpit_display_token_community_id_community"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["street_id"], ["cockpit_street.id"],
                                name=op.f("fk_cockpit_display_token_street_id_cockpit_street"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff.id"],
                                name=op.f("fk_cockpit_display_token_created_by_id_staff"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["staff.id"],
                                name=op.f("fk_cockpit_display_token_revoked_by_id_staff"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cockpit_display_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_cockpit_display_token_token_hash")),
    )
    op.create_index(op.f("ix_cockpit_display_token_community_id"), "cockpit_display_token", ["community_id"])
    op.create_table(
        "cockpit_snapshot",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("took_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"],
                                name=op.f("fk_cockpit_snapshot_community_id_community"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_cockpit_snapshot")),
    )


def downgrade():
    op.drop_table("cockpit_snapshot")
    op.drop_index(op.f("ix_cockpit_display_token_community_id"), table_name="cockpit_display_token")
    op.drop_table("cockpit_display_token")
    op.drop_index(op.f("ix_cockpit_street_admin_street_id"), table_name="cockpit_street_admin")
    op.drop_table("cockpit_street_admin")
    op.drop_index(op.f("ix_cockpit_street_community_street_id"), table_name="cockpit_street_community")
    op.drop_table("cockpit_street_community")
    op.drop_table("cockpit_street")

"""places: a community's named places (东门, 中心花园, 北门停车场) with their other names

Revision ID: 0023_places
Revises: 0022_cockpit
"""
import sqlalchemy as sa
from alembic import op

revision = "0023_places"
down_revision = "0022_cockpit"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "place",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("building", sa.String(length=20), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_place_community_id_community")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place")),
        sa.UniqueConstraint("community_id", "name", name=op.f("uq_place_community_id_name")),
    )
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_community_id"), ["community_id"], unique=False)


def downgrade():
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_community_id"))
    op.drop_table("place")

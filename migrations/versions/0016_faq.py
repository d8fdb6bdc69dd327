"""faq: common questions a community's staff keep answers for (question, synonyms, answer, category)

Revision ID: 0016_faq
Revises: 0015_seen_nonce
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_faq"
down_revision = "0015_seen_nonce"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "faq_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=100), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("synonyms", sa.JSON(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_faq_entry_community_id_community")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["staff.id"], name=op.f("fk_faq_entry_updated_by_id_staff"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entry")),
        sa.UniqueConstraint("community_id", "question", name=op.f("uq_faq_entry_community_id_question")),
    )
    op.create_index("ix_faq_entry_community_active", "faq_entry", ["community_id", "active"], unique=False)


def downgrade():
    op.drop_index("ix_faq_entry_community_active", table_name="faq_entry")
    op.drop_table("faq_entry")

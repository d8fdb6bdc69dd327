"""activities: clubs, members, sessions, activities, sign-ups

Revision ID: 0020_activities
Revises: 0019_welfare
"""
import sqlalchemy as sa
from alembic import op

revision = "0020_activities"
down_revision = "0019_welfare"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("club",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("community_id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=50), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("organiser_resident_id", sa.Integer(), nullable=True),
    sa.Column("organiser_staff_id", sa.Integer(), nullable=True),
    sa.Column("every_weeks", sa.Integer(), nullable=False),
    sa.Column("weekday", sa.Integer(), nullable=False),
    sa.Column("session_time", sa.String(length=5), nullable=False),
    sa.Column("session_minutes", sa.Integer(), nullable=False),
    sa.Column("place", sa.String(length=100), nullable=False),
    sa.Column("capacity", sa.Integer(), nullable=False),
    sa.Column("first_day", sa.Date(), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_club_community_id_community")),
    sa.ForeignKeyConstraint(["organiser_resident_id"], ["resident.id"],
                            name=op.f("fk_club_organiser_resident_id_resident"),
                            ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["organiser_staff_id"], ["staff.id"], name=op.f("fk_club_organiser_staff_id_staff"),
                            ondelete="SET NULL"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_club")),
    sa.UniqueConstraint("community_id", "name", name=op.f("uq_club_community_id_name"))
    )
    with op.batch_alter_table("club", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_club_community_id"), ["community_id"], unique=False)

    op.create_table("club_member",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("club_id", sa.Integer(), nullable=False),
    sa.Column("resident_id", sa.Integer(), nullable=False),
    sa.Column("role", sa.String(length=10), nullable=False),
    sa.Column("joined_at", sa.DateTime(), nullable=False),
    sa.Column("left_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["club_id"], ["club.id"], name=op.f("fk_club_member_club_id_club"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], name=op.f("fk_club_member_resident_id_resident"),
                            ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_club_member")),
    sa.UniqueConstraint("club_id", "resident_id", name=op.f("uq_club_member_club_id_resident_id"))
    )
    with op.batch_alter_table("club_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_club_member_resident_id"), ["resident_id"], unique=False)

    op.create_table("activity",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("community_id", sa.Integer(), nullable=False),
    sa.Column("club_id", sa.Integer(), nullable=True),
    sa.Column("title", sa.String(length=100), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("place", sa.String(length=100), nullable=False),
    sa.Column("starts_at", sa.DateTime(), nullable=False),
    sa.Column("ends_at", sa.DateTime(), nullable=False),
    sa.Column("capacity", sa.Integer(), nullable=False),
    sa.Column("taken", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(length=10), nullable=False),
    sa.Column("checkin_code", sa.String(length=6), nullable=False),
    sa.Column("created_by_staff_id", sa.Integer(), nullable=True),
    sa.Column("campaign_id", sa.Integer(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.CheckConstraint("taken >= 0 AND (capacity = 0 OR taken <= capacity)", name=op.f("ck_activity_seats")),
    sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f("fk_activity_campaign_id_campaign"),
                            ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["club_id"], ["club.id"], name=op.f("fk_activity_club_id_club"), ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["community_id"], ["community.id"], name=op.f("fk_activity_community_id_community")),
    sa.ForeignKeyConstraint(["created_by_staff_id"], ["staff.id"], name=op.f("fk_activity_created_by_staff_id_staff"),
                            ondelete="SET NULL"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
    sa.UniqueConstraint("club_id", "starts_at", name=op.f("uq_activity_club_id_starts_at"))
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index("ix_activity_community_id_starts_at", ["community_id", "starts_at"], unique=False)

    op.create_table("activity_signup",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("activity_id", sa.Integer(), nullable=False),
    sa.Column("resident_id", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(length=10), nullable=False),
    sa.Column("source", sa.String(length=10), nullable=False),
    sa.Column("signed_by_staff_id", sa.Integer(), nullable=True),
    sa.Column("queued_at", sa.DateTime(), nullable=False),
    sa.Column("offer_expires_at", sa.DateTime(), nullable=True),
    sa.Column("cancelled_at", sa.DateTime(), nullable=True),
    sa.Column("checked_in_at", sa.DateTime(), nullable=True),
    sa.Column("checked_in_by", sa.String(length=10), nullable=True),
    sa.Column("reminded_at", sa.DateTime(), nullable=True),
    sa.Column("rating", sa.Integer(), nullable=True),
    sa.Column("feedback", sa.Text(), nullable=True),
    sa.Column("feedback_at", sa.DateTime(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name=op.f("ck_activity_signup_rating")),
    sa.ForeignKeyConstraint(["activity_id"], ["activity.id"], name=op.f("fk_activity_signup_activity_id_activity"),
                            ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["resident_id"], ["resident.id"], name=op.f("fk_activity_signup_resident_id_resident"),
                            ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["signed_by_staff_id"], ["staff.id"],
                            name=op.f("fk_activity_signup_signed_by_staff_id_staff"),
                            ondelete="SET NULL"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_signup")),
    sa.UniqueConstraint("activity_id", "resident_id", name=op.f("uq_activity_signup_activity_id_resident_id"))
    )
    with op.batch_alter_table("activity_signup", schema=None) as batch_op:
        batch_op.create_index("ix_activity_signup_activity_id_status", ["activity_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_signup_resident_id"), ["resident_id"], unique=False)


def downgrade():
    with op.batch_alter_table("activity_signup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_signup_resident_id"))
        batch_op.drop_index("ix_activity_signup_activity_id_status")

    op.drop_table("activity_signup")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_community_id_starts_at")

    op.drop_table("activity")
    with op.batch_alter_table("club_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_club_member_resident_id"))

    op.drop_table("club_member")
    with op.batch_alter_table("club", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_club_community_id"))

    op.drop_table("club")

"""rotation_turn: the order of rotation (轮派) turns per worker, so the next turn is a lookup by key

Revision ID: 0024_rotation_turn
Revises: 0023_places

The table starts from the timeline: each worker's newest system "assigned" event in rotation mode
(its id orders the turns, as the old query did).
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0024_rotation_turn"
down_revision = "0023_places"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rotation_turn",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"],
                                name=op.f("fk_rotation_turn_community_id_community")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_rotation_turn_staff_id_staff"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_rotation_turn")),
    )
    with op.batch_alter_table("rotation_turn", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rotation_turn_community_id"), ["community_id"], unique=False)
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT e.id, e.data, t.community_id FROM ticket_event e JOIN ticket t ON t.id = e.ticket_id "
        "WHERE e.kind = 'assigned' AND e.actor_kind = 'system'")).all()
    latest: dict[int, tuple[int, int]] = {}
    for event_id, data, community_id in rows:
        data = data if isinstance(data, dict) else json.loads(data or "{}")
        staff_id = data.get("assignee_id")
        if data.get("mode") == "rotation" and isinstance(staff_id, int):
            if staff_id not in latest or latest[staff_id][0] < event_id:
                latest[staff_id] = (event_id, community_id)
    if latest:
        op.bulk_insert(sa.table("rotation_turn", sa.column("staff_id"), sa.column("community_id"), sa.column("turn")),
                       [{"staff_id": s, "community_id": c, "turn": e} for s, (e, c) in latest.items()])


def downgrade():
    with op.batch_alter_table("rotation_turn", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rotation_turn_community_id"))
    op.drop_table("rotation_turn")

"""vehicle claims: a vehicle row is one household's claim to a plate (unique per community, plate and
household, so a second household may claim a plate and make it disputed), and dispute_resolution records
staff settling a disputed plate

Revision ID: 0014_vehicle_claims
Revises: 0013_sealed_device_secrets
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_vehicle_claims"
down_revision = "0013_sealed_device_secrets"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.drop_constraint("uq_vehicle_community_id_plate", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_vehicle_community_id_plate_household_id"),
                                          ["community_id", "plate", "household_id"])

    op.create_table('dispute_resolution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('plate', sa.String(length=12), nullable=False),
    sa.Column('kept_household_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('staff_name', sa.String(length=50), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('claims', sa.JSON(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_dispute_resolution_community_id_community')),
    sa.ForeignKeyConstraint(['kept_household_id'], ['household.id'], name=op.f('fk_dispute_resolution_kept_household_id_household'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_dispute_resolution_staff_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_resolution'))
    )
    with op.batch_alter_table('dispute_resolution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_resolution_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispute_resolution_plate'), ['plate'], unique=False)


def downgrade():
    with op.batch_alter_table('dispute_resolution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_resolution_plate'))
        batch_op.drop_index(batch_op.f('ix_dispute_resolution_community_id'))

    op.drop_table('dispute_resolution')
    # one claim per plate again: the earliest claim of a disputed plate stays, the later ones go
    later = ("SELECT id FROM vehicle WHERE id NOT IN "
             "(SELECT MIN(id) FROM vehicle GROUP BY community_id, plate)")
    op.execute(f"UPDATE car_notice SET vehicle_id = NULL WHERE vehicle_id IN ({later})")
    op.execute(f"DELETE FROM vehicle WHERE id IN ({later})")
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.drop_constraint("uq_vehicle_community_id_plate_household_id", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_vehicle_community_id_plate"), ["community_id", "plate"])

"""parking: zones with fixed and temporary capacity and live counts, per-space states, camera devices with
their keys, occupancy events (unique per device and event id), the 5-minute history, vehicles, car notices

Revision ID: 0009_parking
Revises: 0008_wishes
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_parking"
down_revision = "0008_wishes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('parking_device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('zone_ids', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_parking_device_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_device')),
    sa.UniqueConstraint('key_id', name=op.f('uq_parking_device_key_id'))
    )
    with op.batch_alter_table('parking_device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parking_device_community_id'), ['community_id'], unique=False)

    op.create_table('parking_zone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('fixed_capacity', sa.Integer(), nullable=False),
    sa.Column('temporary_capacity', sa.Integer(), nullable=False),
    sa.Column('fixed_occupied', sa.Integer(), nullable=False),
    sa.Column('temporary_occupied', sa.Integer(), nullable=False),
    sa.Column('last_event_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_parking_zone_building_id_building')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_parking_zone_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_zone')),
    sa.UniqueConstraint('community_id', 'code', name=op.f('uq_parking_zone_community_id_code'))
    )
    with op.batch_alter_table('parking_zone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parking_zone_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parking_zone_community_id'), ['community_id'], unique=False)

    op.create_table('occupancy_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['parking_device.id'], name=op.f('fk_occupancy_event_device_id_parking_device'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id'], ['parking_zone.id'], name=op.f('fk_occupancy_event_zone_id_parking_zone'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occupancy_event')),
    sa.UniqueConstraint('device_id', 'event_id', name=op.f('uq_occupancy_event_device_id_event_id'))
    )
    with op.batch_alter_table('occupancy_event', schema=None) as batch_op:
        batch_op.create_index('ix_occupancy_event_zone_id_occurred_at', ['zone_id', 'occurred_at'], unique=False)

    op.create_table('parking_space',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('occupied', sa.Boolean(), nullable=False),
    sa.Column('last_event_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['zone_id'], ['parking_zone.id'], name=op.f('fk_parking_space_zone_id_parking_zone'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_space')),
    sa.UniqueConstraint('zone_id', 'code', name=op.f('uq_parking_space_zone_id_code'))
    )
    op.create_table('zone_sample',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.DateTime(), nullable=False),
    sa.Column('fixed_occupied', sa.Integer(), nullable=False),
    sa.Column('temporary_occupied', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['zone_id'], ['parking_zone.id'], name=op.f('fk_zone_sample_zone_id_parking_zone'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zone_sample')),
    sa.UniqueConstraint('zone_id', 'bucket', name=op.f('uq_zone_sample_zone_id_bucket'))
    )
    with op.batch_alter_table('zone_sample', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zone_sample_zone_id'), ['zone_id'], unique=False)

    op.create_table('vehicle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('plate', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_vehicle_community_id_community')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_vehicle_household_id_household'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_vehicle_resident_id_resident'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vehicle')),
    sa.UniqueConstraint('community_id', 'plate', name=op.f('uq_vehicle_community_id_plate'))
    )
    with op.batch_alter_table('vehicle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vehicle_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vehicle_household_id'), ['household_id'], unique=False)

    op.create_table('car_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('plate', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sender_resident_id', sa.Integer(), nullable=True),
    sa.Column('sender_staff_id', sa.Integer(), nullable=True),
    sa.Column('vehicle_id', sa.Integer(), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.Column('handled_note', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_car_notice_community_id_community')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_car_notice_household_id_household'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sender_resident_id'], ['resident.id'], name=op.f('fk_car_notice_sender_resident_id_resident'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sender_staff_id'], ['staff.id'], name=op.f('fk_car_notice_sender_staff_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicle.id'], name=op.f('fk_car_notice_vehicle_id_vehicle'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_car_notice'))
    )
    with op.batch_alter_table('car_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_car_notice_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_car_notice_community_id_status', ['community_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_car_notice_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_car_notice_plate'), ['plate'], unique=False)



def downgrade():
    with op.batch_alter_table('car_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_car_notice_plate'))
        batch_op.drop_index(batch_op.f('ix_car_notice_created_at'))
        batch_op.drop_index('ix_car_notice_community_id_status')
        batch_op.drop_index(batch_op.f('ix_car_notice_community_id'))

    op.drop_table('car_notice')
    with op.batch_alter_table('vehicle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicle_household_id'))
        batch_op.drop_index(batch_op.f('ix_vehicle_community_id'))

    op.drop_table('vehicle')
    with op.batch_alter_table('zone_sample', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zone_sample_zone_id'))

    op.drop_table('zone_sample')
    op.drop_table('parking_space')
    with op.batch_alter_table('occupancy_event', schema=None) as batch_op:
        batch_op.drop_index('ix_occupancy_event_zone_id_occurred_at')

    op.drop_table('occupancy_event')
    with op.batch_alter_table('parking_zone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parking_zone_community_id'))
        batch_op.drop_index(batch_op.f('ix_parking_zone_building_id'))

    op.drop_table('parking_zone')
    with op.batch_alter_table('parking_device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parking_device_community_id'))

    op.drop_table('parking_device')

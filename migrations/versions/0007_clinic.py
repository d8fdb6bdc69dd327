"""clinic: services, providers, places, weekly schedules, slots, bookings (one active per slot and
resident), the waitlist, family-doctor teams and signings, health records, measurements, kiosks, access log

Revision ID: 0007_clinic
Revises: 0005_escalations
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_clinic"
down_revision = "0005_escalations"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('clinic_device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_clinic_device_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_device')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_clinic_device_token_hash'))
    )

    with op.batch_alter_table('clinic_device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_device_community_id'), ['community_id'], unique=False)

    op.create_table('clinic_place',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_clinic_place_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_place'))
    )

    with op.batch_alter_table('clinic_place', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_place_community_id'), ['community_id'], unique=False)

    op.create_table('clinic_service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('place_kind', sa.String(length=10), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('max_active_per_resident', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_clinic_service_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_service')),
    sa.UniqueConstraint('community_id', 'code', name=op.f('uq_clinic_service_community_id_code'))
    )

    with op.batch_alter_table('clinic_service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_service_community_id'), ['community_id'], unique=False)

    op.create_table('family_doctor_team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_family_doctor_team_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_doctor_team'))
    )

    with op.batch_alter_table('family_doctor_team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_doctor_team_community_id'), ['community_id'], unique=False)

    op.create_table('clinic_provider',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('specialty', sa.String(length=50), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_clinic_provider_community_id_community')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_clinic_provider_staff_id_staff')),
    sa.ForeignKeyConstraint(['team_id'], ['family_doctor_team.id'], name=op.f('fk_clinic_provider_team_id_family_doctor_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_provider'))
    )

    with op.batch_alter_table('clinic_provider', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_provider_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clinic_provider_staff_id'), ['staff_id'], unique=False)

    op.create_table('family_doctor_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_family_doctor_member_staff_id_staff')),
    sa.ForeignKeyConstraint(['team_id'], ['family_doctor_team.id'], name=op.f('fk_family_doctor_member_team_id_family_doctor_team'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_doctor_member')),
    sa.UniqueConstraint('team_id', 'staff_id', name=op.f('uq_family_doctor_member_team_id_staff_id'))
    )

    with op.batch_alter_table('family_doctor_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_doctor_member_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_family_doctor_member_team_id'), ['team_id'], unique=False)

    op.create_table('clinic_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start', sa.String(length=5), nullable=False),
    sa.Column('end', sa.String(length=5), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_clinic_schedule_community_id_community')),
    sa.ForeignKeyConstraint(['place_id'], ['clinic_place.id'], name=op.f('fk_clinic_schedule_place_id_clinic_place')),
    sa.ForeignKeyConstraint(['provider_id'], ['clinic_provider.id'], name=op.f('fk_clinic_schedule_provider_id_clinic_provider')),
    sa.ForeignKeyConstraint(['service_id'], ['clinic_service.id'], name=op.f('fk_clinic_schedule_service_id_clinic_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_schedule'))
    )

    with op.batch_alter_table('clinic_schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_schedule_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clinic_schedule_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clinic_schedule_service_id'), ['service_id'], unique=False)

    op.create_table('clinic_slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.CheckConstraint('booked >= 0 AND booked <= capacity', name=op.f('ck_clinic_slot_booked_within_capacity')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_clinic_slot_community_id_community')),
    sa.ForeignKeyConstraint(['place_id'], ['clinic_place.id'], name=op.f('fk_clinic_slot_place_id_clinic_place')),
    sa.ForeignKeyConstraint(['provider_id'], ['clinic_provider.id'], name=op.f('fk_clinic_slot_provider_id_clinic_provider')),
    sa.ForeignKeyConstraint(['service_id'], ['clinic_service.id'], name=op.f('fk_clinic_slot_service_id_clinic_service')),
    sa.ForeignKeyConstraint(['template_id'], ['clinic_schedule.id'], name=op.f('fk_clinic_slot_template_id_clinic_schedule')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_slot')),
    sa.UniqueConstraint('provider_id', 'service_id', 'starts_at', name=op.f('uq_clinic_slot_provider_id_service_id_starts_at'))
    )

    with op.batch_alter_table('clinic_slot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_slot_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_clinic_slot_service_start', ['service_id', 'starts_at'], unique=False)

    op.create_table('family_doctor_signing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_family_doctor_signing_household_id_household')),
    sa.ForeignKeyConstraint(['team_id'], ['family_doctor_team.id'], name=op.f('fk_family_doctor_signing_team_id_family_doctor_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_doctor_signing')),
    sa.UniqueConstraint('household_id', name=op.f('uq_family_doctor_signing_household_id'))
    )

    with op.batch_alter_table('family_doctor_signing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_doctor_signing_team_id'), ['team_id'], unique=False)

    op.create_table('clinic_booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('rescheduled_from_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('no_show_at', sa.DateTime(), nullable=True),
    sa.Column('reminded_day_at', sa.DateTime(), nullable=True),
    sa.Column('reminded_hour_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_clinic_booking_community_id_community')),
    sa.ForeignKeyConstraint(['rescheduled_from_id'], ['clinic_booking.id'], name=op.f('fk_clinic_booking_rescheduled_from_id_clinic_booking')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_clinic_booking_resident_id_resident')),
    sa.ForeignKeyConstraint(['service_id'], ['clinic_service.id'], name=op.f('fk_clinic_booking_service_id_clinic_service')),
    sa.ForeignKeyConstraint(['slot_id'], ['clinic_slot.id'], name=op.f('fk_clinic_booking_slot_id_clinic_slot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_booking')),
    sa.UniqueConstraint('number', name=op.f('uq_clinic_booking_number'))
    )

    with op.batch_alter_table('clinic_booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_booking_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_clinic_booking_resident_status', ['resident_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_clinic_booking_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index('uq_clinic_booking_active', ['slot_id', 'resident_id'], unique=True, postgresql_where=sa.text("status IN ('booked', 'checked_in')"), sqlite_where=sa.text("status IN ('booked', 'checked_in')"))

    op.create_table('clinic_waitlist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('notified_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_clinic_waitlist_resident_id_resident')),
    sa.ForeignKeyConstraint(['slot_id'], ['clinic_slot.id'], name=op.f('fk_clinic_waitlist_slot_id_clinic_slot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_waitlist')),
    sa.UniqueConstraint('slot_id', 'resident_id', name=op.f('uq_clinic_waitlist_slot_id_resident_id'))
    )

    with op.batch_alter_table('clinic_waitlist', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_waitlist_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clinic_waitlist_slot_id'), ['slot_id'], unique=False)

    op.create_table('health_access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_health_access_log_resident_id_resident')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_health_access_log_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_access_log'))
    )

    with op.batch_alter_table('health_access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_access_log_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_access_log_staff_id'), ['staff_id'], unique=False)

    op.create_table('health_measurement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('colour', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('measured_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['clinic_device.id'], name=op.f('fk_health_measurement_device_id_clinic_device')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_health_measurement_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_measurement'))
    )

    with op.batch_alter_table('health_measurement', schema=None) as batch_op:
        batch_op.create_index('ix_health_measurement_resident_at', ['resident_id', 'measured_at'], unique=False)

    op.create_table('health_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('colour', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_health_record_resident_id_resident')),
    sa.ForeignKeyConstraint(['set_by_id'], ['staff.id'], name=op.f('fk_health_record_set_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_record')),
    sa.UniqueConstraint('resident_id', name=op.f('uq_health_record_resident_id'))
    )


def downgrade():
    op.drop_table("health_record")
    op.drop_table("health_measurement")
    op.drop_table("health_access_log")
    op.drop_table("clinic_waitlist")
    op.drop_table("clinic_booking")
    op.drop_table("family_doctor_signing")
    op.drop_table("clinic_slot")
    op.drop_table("clinic_schedule")
    op.drop_table("family_doctor_member")
    op.drop_table("clinic_provider")
    op.drop_table("family_doctor_team")
    op.drop_table("clinic_service")
    op.drop_table("clinic_place")
    op.drop_table("clinic_device")

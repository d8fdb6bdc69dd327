"""All models, imported so that alembic and the app see every table."""

from app.models.community import Building, Community, Household, Unit
from app.models.conversations import Conversation, Message
from app.models.outbox import OutboxJob
from app.models.residents import Binding, MiniProgramSession, Resident, Staff
from app.models.tags import Tag, resident_tag

__all__ = [
    "Binding", "Building", "Community", "Conversation", "Household", "Message",
    "MiniProgramSession", "OutboxJob", "Resident", "Staff", "Tag", "Unit", "resident_tag",
]
from app.models.campaigns import Campaign, Delivery  # noqa: E402,F401
from app.models.clinic import (  # noqa: E402,F401
    Booking,
    ClinicPlace,
    ClinicService,
    FamilyDoctorTeam,
    HealthRecord,
    Measurement,
    Provider,
    ScheduleTemplate,
    Slot,
    WaitlistEntry,
)
from app.models.escalations import CannedReply, Escalation, EscalationNote  # noqa: E402,F401
from app.models.notifications import Notification, NotificationPreference, SubscribeGrant  # noqa: E402,F401
from app.models.parking import CarNotice, OccupancyEvent, ParkingDevice, ParkingSpace, ParkingZone, Vehicle, ZoneSample  # noqa: E402,F401
from app.models.tickets import RoutingRule, Ticket, TicketEvent, TicketFollower, TicketPhoto, TicketRating  # noqa: E402,F401
from app.models.wishes import (  # noqa: E402,F401
    FacilityItem,
    FacilityRating,
    Wish,
    WishComment,
    WishEvent,
    WishFollower,
    WishMilestone,
    WishSupport,
    WishThreshold,
)

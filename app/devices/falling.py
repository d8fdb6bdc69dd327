"""Falling objects (高空抛物): a camera's trajectory traced back to its start, mapped onto the building's façade
grid (floors × window columns, calibrated per camera) to a floor, a window column and candidate flats with a
confidence; a critical alarm with the evidence; after staff confirm, a neutral notice to the flats above.

The façade model: staff mark the 4 image corners of the façade part a camera sees (top-left, top-right,
bottom-right, bottom-left); a homography (plain Python, 8×8 Gaussian elimination) maps an image point to
(u, v) in the unit square, u across and v down; floor = top_floor - ⌊v·floors⌋, column = ⌊u·columns⌋.
The start is the apex of a parabola fitted to y(t) (the object was moving before the camera saw it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Building, Household, Resident, Staff, Unit
from app.core.clock import to_local
from app.core.errors import NotFound, ValidationFailed
from app.devices import alarms, evidence
from app.devices.models import Alarm, Device, DeviceEvent
from app.devices.rule_models import FacadeGrid
from app.notify.notify import notify

UNIT_SQUARE = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
MIN_SHARE = 0.15  # a neighbouring cell becomes a candidate when its share is at least this
MAX_BACKTRACK_S = 1.5  # how far before the first point the fitted apex may lie
OUTSIDE_PENALTY = 0.5  # a start point outside the calibrated façade halves the confidence
MAX_INCIDENTS = 10  # objects seen while the alarm is active, each with its own origin, kept in its details
NOTICE = ("【安全提醒】{time}左右，本楼外侧发生一起高空坠物，物业已在现场处理。请勿从窗口、阳台向外抛物，"
          "并检查阳台、窗台上的花盆和杂物是否放稳，谢谢配合。")


# ---- geometry: no database -----------------------------------------------------------------------


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Solve a·x = b by Gaussian elimination with partial pivoting (raises ValueError when singular)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            raise ValueError("degenerate corners")
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for c in range(col, n + 1):
                m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


def homography(src, dst=UNIT_SQUARE) -> list[list[float]]:
    """The 3×3 homography taking 4 src points onto 4 dst points."""
    a, b = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        b.append(u)
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.append(v)
    h = _solve(a, b)
    return [h[0:3], h[3:6], [h[6], h[7], 1.0]]


def project(h: list[list[float]], x: float, y: float) -> tuple[float, float]:
    """An image point through a homography."""
    w = h[2][0] * x + h[2][1] * y + h[2][2]
    if abs(w) < 1e-12:
        raise ValueError("point at infinity")
    return ((h[0][0] * x + h[0][1] * y + h[0][2]) / w, (h[1][0] * x + h[1][1] * y + h[1][2]) / w)


def _points(trajectory) -> list[tuple[float, float, float]]:
    """(t, x, y) from [{"t": s, "x": px, "y": px}, ...] or [[t, x, y], ...], sorted by time."""
    out = []
    for p in trajectory if isinstance(trajectory, list) else []:
        if isinstance(p, dict):
            t, x, y = p.get("t"), p.get("x"), p.get("y")
        elif isinstance(p, list | tuple):
            t, x, y = (list(p) + [None] * 3)[:3]
        else:
            continue
        if all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in (t, x, y)):
            out.append((float(t), float(x), float(y)))
    return sorted(out)


def origin(trajectory) -> tuple[float, float] | None:
    """Where the object started in the image: the apex of y(t) fitted as a parabola, else the first point."""
    pts = _points(trajectory)
    if not pts:
        return None
    t0, x0, y0 = pts[0]
    if len(pts) < 3:
        return x0, y0
    ts = [t - t0 for t, _, _ in pts]
    # least squares y = a t² + b t + c and x = p t + q, from the normal equations
    s = [sum(t**k for t in ts) for k in range(5)]
    ys, xs = [p[2] for p in pts], [p[1] for p in pts]
    try:
        a, b, c = _solve([[s[4], s[3], s[2]], [s[3], s[2], s[1]], [s[2], s[1], s[0]]],
                         [sum(t * t * y for t, y in zip(ts, ys, strict=True)),
                          sum(t * y for t, y in zip(ts, ys, strict=True)), sum(ys)])
        p, q = _solve([[s[2], s[1]], [s[1], s[0]]], [sum(t * x for t, x in zip(ts, xs, strict=True)), sum(xs)])
    except ValueError:
        return x0, y0
    if a <= 0:  # not accelerating downwards: no apex to trust
        return x0, y0
    apex = max(-b / (2 * a), -MAX_BACKTRACK_S)
    if apex >= 0:
        return x0, y0
    return p * apex + q, a * apex * apex + b * apex + c


def _shares(f: float, n: int) -> list[tuple[int, float]]:
    """A position f in cell units (0..n) as (cell, share): the cell it is in and, near an edge, its neighbour."""
    cell = min(max(int(math.floor(f)), 0), n - 1)
    frac = min(max(f - cell, 0.0), 1.0)
    edge = min(frac, 1 - frac)
    other = cell - 1 if frac < 0.5 else cell + 1
    out = [(cell, 0.5 + edge)]
    if 0 <= other < n and 0.5 - edge > 0:
        out.append((other, 0.5 - edge))
    else:
        out[0] = (cell, 1.0)
    return out


@dataclass
class Location:
    """Where on the façade a start point lies: the best floor and column, and every candidate cell."""

    floor: int
    column: int
    confidence: float
    u: float
    v: float
    cells: list[tuple[int, int, float]] = field(default_factory=list)  # (floor, column, confidence)


def locate(corners, floors: int, top_floor: int, columns: int, x: float, y: float) -> Location:
    """Map an image point onto the façade grid (see the module docstring)."""
    u, v = project(homography(corners), x, y)
    inside = -0.02 <= u <= 1.02 and -0.02 <= v <= 1.02
    penalty = 1.0 if inside else OUTSIDE_PENALTY
    cols = _shares(u * columns, columns)
    rows = _shares(v * floors, floors)
    cells = sorted(((top_floor - r, c, round(rs * cs * penalty, 2)) for r, rs in rows for c, cs in cols),
                   key=lambda cell: -cell[2])
    cells = [cell for cell in cells if cell[2] >= MIN_SHARE * penalty]
    best = cells[0]
    return Location(floor=best[0], column=best[1], confidence=best[2], u=u, v=v, cells=cells)


# ---- the grid, the alarm and the notice -----------------------------------------------------------


def grid_for(session: Session, camera_id: int) -> FacadeGrid | None:
    """The façade grid calibrated for a camera, if any."""
    return session.scalar(select(FacadeGrid).where(FacadeGrid.camera_id == camera_id))


def default_column_flats(session: Session, building_id: int) -> list[str]:
    """Window columns left to right as "unit-seat", from the building's rooms (unit 1 seat 01, 02, unit 2 ...)."""
    rows = session.execute(select(Unit.number, Household.room).join(Household, Household.unit_id == Unit.id)
                           .where(Unit.building_id == building_id)).all()
    seats = sorted({(int(u) if u.isdigit() else 0, u, room[-2:]) for u, room in rows if len(room) >= 3})
    return [f"{u}-{seat}" for _, u, seat in seats]


def _flat(session: Session, building_id: int, column_flat: str, floor: int) -> tuple[Household | None, str]:
    unit, _, seat = column_flat.partition("-")
    room = f"{floor}{seat}"
    household = session.scalar(select(Household).join(Unit, Unit.id == Household.unit_id)
                               .where(Unit.building_id == building_id, Unit.number == unit, Household.room == room))
    number = session.scalar(select(Building.number).where(Building.id == building_id))
    return household, f"{number}幢{unit}单元{room}"


def candidates(session: Session, grid: FacadeGrid, location: Location) -> list[dict]:
    """The candidate flats of a location, best first, each with its confidence."""
    flats = list(grid.column_flats or []) or default_column_flats(session, grid.building_id)
    out = []
    for floor, column, confidence in location.cells:
        column_flat = flats[column] if column < len(flats) else ""
        if not column_flat:
            continue
        household, label = _flat(session, grid.building_id, column_flat, floor)
        out.append({"floor": floor, "column": column + 1, "flat": column_flat, "label": label,
                    "household_id": household.id if household else None, "confidence": confidence})
    return out


def on_falling_object(session: Session, device: Device, event: DeviceEvent, now: datetime) -> None:
    """A camera saw a falling object: locate its start on the façade, raise a critical alarm, keep the evidence."""
    payload = event.payload or {}
    grid = grid_for(session, device.id)
    start = origin(payload.get("trajectory"))
    details: dict = {"event_id": event.event_id, "start": list(start) if start else None, "calibrated": bool(grid)}
    location_text = device.location or device.name
    if grid is not None and start is not None:
        try:
            where = locate(grid.corners, grid.floors, grid.top_floor, grid.columns, *start)
        except ValueError:
            where = None
        if where is not None:
            flats = candidates(session, grid, where)
            best = flats[0] if flats else None
            details.update(floor=where.floor, column=where.column + 1, confidence=where.confidence,
                           u=round(where.u, 3), v=round(where.v, 3), candidates=flats, grid_id=grid.id,
                           flat=best["flat"] if best else None)
            number = session.scalar(select(Building.number).where(Building.id == grid.building_id))
            location_text = f"{number}幢 约{where.floor}层 第{where.column + 1}列窗"
    earlier = alarms_active(session, device.id)
    incident = {k: details.get(k) for k in ("event_id", "floor", "column", "flat", "confidence")}
    details["incidents"] = [*((earlier.details or {}).get("incidents", []) if earlier else []),
                            {**incident, "at": (event.occurred_at or now).isoformat(),
                             "local": to_local(event.occurred_at or now).strftime("%H:%M")}][-MAX_INCIDENTS:]
    alarm = alarms.raise_alarm(session, community_id=device.community_id, type="falling_object",
                               severity="critical", now=now, device_id=device.id,
                               building_id=grid.building_id if grid else device.building_id,
                               location=location_text[:100], details=details)
    evidence.record(session, alarm, device, event, now)


def alarms_active(session: Session, camera_id: int) -> Alarm | None:
    """The camera's active falling-object alarm (a new object while it is active is counted as a repeat)."""
    return session.scalar(select(Alarm).where(Alarm.device_id == camera_id, Alarm.type == "falling_object",
                                              Alarm.state.in_(alarms.ACTIVE)).order_by(Alarm.id.desc()).limit(1))


def flats_above(session: Session, alarm: Alarm) -> list[Household]:
    """The flats stacked above the origin floor in the origin's window column."""
    d = alarm.details or {}
    if not (d.get("flat") and d.get("floor") and alarm.building_id):
        return []
    unit, _, seat = str(d["flat"]).partition("-")
    rows = session.scalars(select(Household).join(Unit, Unit.id == Household.unit_id)
                           .where(Unit.building_id == alarm.building_id, Unit.number == unit)).all()
    above = []
    for h in rows:
        floor = h.room[:-len(seat)] if seat and h.room.endswith(seat) else ""
        if floor.isdigit() and int(floor) > int(d["floor"]):
            above.append(h)
    return sorted(above, key=lambda h: int(h.room[:-len(seat)]))


def notify_flats_above(session: Session, alarm: Alarm, now: datetime) -> int:
    """Confirm listener: a neutral safety notice to the residents of the flats above; how many were told."""
    if (alarm.details or {}).get("notice_sent_at"):
        return 0
    households = flats_above(session, alarm)
    ids = [h.id for h in households]
    residents = session.scalars(select(Resident).where(Resident.household_id.in_(ids),
                                                       Resident.status == "active")).all() if ids else []
    text = NOTICE.format(time=to_local(alarm.raised_at).strftime("%m月%d日%H:%M"))
    for resident in residents:
        notify(session, resident.id, category="safety", text=text, template="notice", now=now)
    alarm.details = {**(alarm.details or {}), "notice_sent_at": now.isoformat(), "notice_flats": len(ids),
                     "notice_residents": len(residents)}
    session.flush()
    return len(residents)


# ---- calibration (the console's façade page) -------------------------------------------------------

FLAT = re.compile(r"^[0-9A-Za-z]{1,10}-[0-9]{1,3}$")


def parse_corners(text: str) -> list[list[float]]:
    """"x,y x,y x,y x,y" (top-left, top-right, bottom-right, bottom-left) as 4 points, checked convex."""
    numbers = re.findall(r"-?\d+(?:\.\d+)?", text or "")
    if len(numbers) != 8:
        raise ValidationFailed("请填写 4 个角点的图像坐标，共 8 个数字（左上、右上、右下、左下）", code="bad_corners")
    points = [[float(numbers[i]), float(numbers[i + 1])] for i in range(0, 8, 2)]
    turns = []
    for i in range(4):
        (ax, ay), (bx, by), (cx, cy) = points[i], points[(i + 1) % 4], points[(i + 2) % 4]
        turns.append((bx - ax) * (cy - by) - (by - ay) * (cx - bx))
    if not (all(t > 0 for t in turns) or all(t < 0 for t in turns)):
        raise ValidationFailed("4 个角点需按左上、右上、右下、左下的顺序围成一个凸四边形", code="bad_corners")
    try:
        homography(points)
    except ValueError as err:
        raise ValidationFailed("角点重合或共线，请重新标定", code="bad_corners") from err
    return points


def parse_column_flats(text: str, columns: int) -> list[str]:
    """"1-01, 1-02, -, 2-01" (unit-seat per window column, "-" for none) checked against the column count."""
    items = [item.strip() for item in re.split(r"[,，\s]+", text or "") if item.strip()]
    if not items:
        return []
    if len(items) != columns:
        raise ValidationFailed(f"每列窗对应的房号需填 {columns} 项（现在 {len(items)} 项）", code="bad_column_flats")
    bad = [item for item in items if item != "-" and not FLAT.match(item)]
    if bad:
        raise ValidationFailed(f"房号列写法如“1-01”（1单元01室），无住户的列写“-”：{bad[0]}", code="bad_column_flats")
    return ["" if item == "-" else item for item in items]


def save_grid(session: Session, staff: Staff, camera_id: int, *, building_id: int, floors: int, top_floor: int,
              columns: int, corners: str, column_flats: str, now: datetime) -> FacadeGrid:
    """Calibrate (or re-calibrate) a camera's façade grid."""
    camera = session.get(Device, camera_id)
    if camera is None or camera.community_id != staff.community_id or camera.kind != "camera":
        raise NotFound("没有这台摄像机", code="camera_not_found")
    building = session.get(Building, building_id)
    if building is None or building.community_id != staff.community_id:
        raise ValidationFailed("请选择本小区的楼栋", code="unknown_building")
    if not (1 <= floors <= 100 and 1 <= columns <= 40 and floors <= top_floor <= 200):
        raise ValidationFailed("楼层数 1–100、列数 1–40，最高层不小于楼层数", code="bad_grid_size")
    points, flats = parse_corners(corners), parse_column_flats(column_flats, columns)
    grid = grid_for(session, camera.id)
    if grid is None:
        grid = FacadeGrid(community_id=staff.community_id, camera_id=camera.id)
        session.add(grid)
    grid.building_id, grid.floors, grid.top_floor, grid.columns = building.id, floors, top_floor, columns
    grid.corners, grid.column_flats, grid.updated_at, grid.updated_by_id = points, flats, now, staff.id
    session.flush()
    return grid

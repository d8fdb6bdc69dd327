"""Audience expressions: `building:30 AND (age>=60 OR health:red) AND NOT tag:moved_out`.

Grammar (keywords in any case; full-width parentheses accepted):

    expr  := and ("OR" and)*
    and   := not ("AND" not)*
    not   := "NOT" not | atom
    atom  := "(" expr ")" | "age" OP INT | "tag:" NAME | NAME
    OP    := >= | <= | > | < | = | !=

A bare NAME (`building:30`, `health:red`, `has_vehicle`) is the tag of that name. Ages come
from birth_year (age = this year - birth_year, as the system age tags count it); a resident
whose birth year is unknown matches no age comparison. Errors carry the character position.
The expression compiles to one SELECT over active residents of a community.

Health tags (health:red|yellow|green, in any spelling) are health data. An audience naming one may be
counted, previewed or sent only by staff who may read health data (the clinic's rule, asked through
app.community.health_access: doctors), and only when every resident it could select, whatever their
colour, is within their scope; otherwise Forbidden, and the refused attempt is logged. Its previews
show the count, never who. Every read of such an audience is logged with staff, IP, session and purpose
(read_count, read_preview, authorize take those as plain arguments from the view).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, not_, or_, select, true
from sqlalchemy.orm import Session

from app.community import health_access
from app.community.models import Building, Household, Resident, Staff, Tag, Unit, resident_tag
from app.core.clock import local_now
from app.core.errors import Forbidden, ValidationFailed

MAX_LENGTH = 1000
MAX_DEPTH = 50
OPS = (">=", "<=", "!=", ">", "<", "=")
KEYWORDS = ("AND", "OR", "NOT")
_WORD = re.compile(r"[^\s()（）<>=!]+")
_NUMBER = re.compile(r"\d{1,3}")


class AudienceError(ValidationFailed):
    """An audience expression that does not parse; details carry the 0-based position."""

    code = "audience_invalid"

    def __init__(self, position: int, problem: str) -> None:
        super().__init__(f"筛选条件第 {position + 1} 个字符处{problem}", details={"position": position})
        self.position = position


# ----- the tree ---------------------------------------------------------------------------
@dataclass(frozen=True)
class HasTag:
    name: str


@dataclass(frozen=True)
class Age:
    op: str
    value: int


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


Node = HasTag | Age | Not | And | Or


def render(node: Node) -> str:
    """The expression text of a tree (fully parenthesised), which parses back to the same tree."""
    if isinstance(node, HasTag):
        return f"tag:{node.name}"
    if isinstance(node, Age):
        return f"age{node.op}{node.value}"
    if isinstance(node, Not):
        return f"NOT {render(node.operand)}"
    word = "AND" if isinstance(node, And) else "OR"
    return f"({render(node.left)} {word} {render(node.right)})"


# ----- tokens -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # word | op | number | lparen | rparen | end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens, or raise AudienceError at the first stray character."""
    tokens, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "(（":
            tokens.append(Token("lparen", ch, i))
            i += 1
        elif ch in ")）":
            tokens.append(Token("rparen", ch, i))
            i += 1
        elif ch in "<>=!":
            op = next((o for o in OPS if text.startswith(o, i)), None)
            if op is None:
                raise AudienceError(i, f"的“{ch}”不是比较符号（可用 >= <= > < = !=）")
            tokens.append(Token("op", op, i))
            i += len(op)
        else:
            match = _WORD.match(text, i)
            assert match is not None
            word = match.group()
            tokens.append(Token("number" if word.isdigit() else "word", word, i))
            i = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# ----- parser -----------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "word" and token.text.upper() == word:
            self.i += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.expr()
        token = self.peek()
        if token.kind != "end":
            what = "多了一个右括号" if token.kind == "rparen" else f"缺少 AND 或 OR（“{token.text}”之前）"
            raise AudienceError(token.pos, what)
        return node

    def expr(self) -> Node:
        node = self.conj()
        while self.keyword("OR"):
            node = Or(node, self.conj())
        return node

    def conj(self) -> Node:
        node = self.neg()
        while self.keyword("AND"):
            node = And(node, self.neg())
        return node

    def neg(self) -> Node:
        if self.keyword("NOT"):
            self._descend()
            node = Not(self.neg())
            self.depth -= 1
            return node
        return self.atom()

    def _descend(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise AudienceError(self.peek().pos, "嵌套太深")

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "lparen":
            self._descend()
            node = self.expr()
            closing = self.take()
            if closing.kind != "rparen":
                raise AudienceError(closing.pos, f"缺少右括号（与第 {token.pos + 1} 个字符的左括号配对）")
            self.depth -= 1
            return node
        if token.kind == "end":
            raise AudienceError(token.pos, "缺少条件")
        if token.kind != "word":
            raise AudienceError(token.pos, f"不应出现“{token.text}”，这里需要一个条件")
        if token.text.upper() in KEYWORDS:
            raise AudienceError(token.pos, f"的 {token.text.upper()} 前面或后面缺少条件")
        if token.text.lower() == "age" and self.peek().kind == "op":
            op = self.take()
            number = self.take()
            if number.kind != "number" or not _NUMBER.fullmatch(number.text):
                raise AudienceError(number.pos, "需要一个年龄数字（0–999）")
            return Age(op.text, int(number.text))
        if self.peek().kind == "op":
            raise AudienceError(self.peek().pos, "只能对 age 做比较，标签请写成 名称:值")
        name = token.text[4:] if token.text.lower().startswith("tag:") else token.text
        if not name:
            raise AudienceError(token.pos + 4, "tag: 后面缺少标签名")
        if len(name) > 60:
            raise AudienceError(token.pos, "的标签名太长")
        return HasTag(name)


def parse(text: str) -> Node:
    """Parse an audience expression into a tree; AudienceError points at the problem."""
    if not text or not text.strip():
        raise AudienceError(0, "缺少条件：筛选条件不能为空")
    if len(text) > MAX_LENGTH:
        raise AudienceError(MAX_LENGTH, f"之后超出长度（最多 {MAX_LENGTH} 个字符）")
    return _Parser(text).parse()


# ----- compiler ---------------------------------------------------------------------------
def _compile(node: Node, community_id: int, year: int) -> ColumnElement[bool]:
    if isinstance(node, HasTag):
        return exists().where(
            resident_tag.c.resident_id == Resident.id, resident_tag.c.tag_id == Tag.id,
            Tag.community_id == community_id, Tag.name == node.name,
        )
    if isinstance(node, Age):
        age = year - Resident.birth_year
        compare = {">=": age >= node.value, "<=": age <= node.value, ">": age > node.value,
                   "<": age < node.value, "=": age == node.value, "!=": age != node.value}[node.op]
        return and_(Resident.birth_year.is_not(None), compare)  # never NULL, so NOT stays two-valued
    if isinstance(node, Not):
        return not_(_compile(node.operand, community_id, year))
    parts = (_compile(node.left, community_id, year), _compile(node.right, community_id, year))
    return and_(*parts) if isinstance(node, And) else or_(*parts)


def audience_filter(community_id: int, expr: str | Node, *, year: int | None = None) -> ColumnElement[bool]:
    """The WHERE clause selecting the audience's active residents of a community."""
    node = parse(expr) if isinstance(expr, str) else node_or_raise(expr)
    year = year or local_now().year
    return and_(Resident.community_id == community_id, Resident.status == "active",
                _compile(node, community_id, year))


def node_or_raise(node: Any) -> Node:
    if not isinstance(node, HasTag | Age | Not | And | Or):
        raise TypeError(f"not an audience tree: {node!r}")
    return node


def audience_select(community_id: int, expr: str | Node, *, year: int | None = None) -> Select:
    """One SELECT of the audience's resident ids, in id order."""
    return select(Resident.id).where(audience_filter(community_id, expr, year=year)).order_by(Resident.id)


def page_ids(session: Session, community_id: int, expr: str | Node, *, after_id: int = 0, limit: int = 1000,
             year: int | None = None) -> list[int]:
    """The next page of audience ids after after_id (keyset pagination: never all in memory)."""
    query = audience_select(community_id, expr, year=year).where(Resident.id > after_id).limit(limit)
    return list(session.scalars(query))


def count(session: Session, community_id: int, expr: str | Node, *, year: int | None = None) -> int:
    """How many residents the expression selects."""
    where = audience_filter(community_id, expr, year=year)
    return session.scalar(select(func.count()).select_from(Resident).where(where)) or 0


def preview(session: Session, community_id: int, expr: str | Node, *, sample: int = 10,
            year: int | None = None) -> dict[str, Any]:
    """The audience's size and a few residents (name, address, masked phone), without sending anything.

    An audience naming a health tag shows its size only (`sample_withheld`), whoever asks."""
    node = parse(expr) if isinstance(expr, str) else node_or_raise(expr)
    withheld = names_health(node) or sample <= 0
    where = audience_filter(community_id, node, year=year)
    rows = [] if withheld else session.execute(
        select(Resident.id, Resident.name, Resident.phone, Building.number, Unit.number, Household.room)
        .outerjoin(Household, Resident.household_id == Household.id)
        .outerjoin(Unit, Household.unit_id == Unit.id)
        .outerjoin(Building, Unit.building_id == Building.id)
        .where(where).order_by(Resident.id).limit(min(sample, 50))
    ).all()
    return {
        "expression": render(node),
        "count": count(session, community_id, node, year=year),
        "sample_withheld": withheld,
        "sample": [
            {"id": rid, "name": name, "phone": (phone[:3] + "****" + phone[-4:]) if len(phone) >= 7 else "****",
             "address": f"{b}幢{u}单元{room}" if b and u and room else ""}
            for rid, name, phone, b, u, room in rows
        ],
    }


# ----- health tags: who may use them, and the log of every read -----------------------------
HEALTH_FORBIDDEN = "按健康标签（health:red 等）筛选住户会用到健康数据，只有家庭医生可以在自己负责的范围内使用"
OUT_OF_SCOPE = ("筛选条件可能选中您负责范围（签约家庭和负责楼栋）以外的住户；请加上您负责的楼栋，"
                "如 building:5 AND health:red")


def health_tags(node: Node) -> list[str]:
    """The tag names in a tree that name health data, in any spelling (see health_access.is_health_tag)."""
    if isinstance(node, HasTag):
        return [node.name] if health_access.is_health_tag(node.name) else []
    if isinstance(node, Age):
        return []
    if isinstance(node, Not):
        return health_tags(node.operand)
    return health_tags(node.left) + health_tags(node.right)


def names_health(node: Node) -> bool:
    """Whether an audience names a health tag anywhere (under NOT too)."""
    return bool(health_tags(node))


def _bounds(node: Node, community_id: int, year: int) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(possible, necessary) without reading health data: a resident the expression could select for some
    health colour, and one it selects for every colour. Health tags count as unknown: possible but not
    necessary; so `possible` covers every resident the expression can ever select, whatever the colours."""
    if isinstance(node, HasTag) and health_access.is_health_tag(node.name):
        return true(), false()
    if isinstance(node, HasTag | Age):
        clause = _compile(node, community_id, year)
        return clause, clause
    if isinstance(node, Not):
        possible, necessary = _bounds(node.operand, community_id, year)
        return not_(necessary), not_(possible)
    (lp, ln), (rp, rn) = _bounds(node.left, community_id, year), _bounds(node.right, community_id, year)
    if isinstance(node, And):
        return and_(lp, rp), and_(ln, rn)
    return or_(lp, rp), or_(ln, rn)


def reach(community_id: int, expr: str | Node, *, year: int | None = None) -> ColumnElement[bool]:
    """A WHERE clause on Resident: every active resident the audience could select, whatever anyone's health
    colour (the audience itself is always within it). Deciding on it never reveals a colour."""
    node = parse(expr) if isinstance(expr, str) else node_or_raise(expr)
    possible, _necessary = _bounds(node, community_id, year or local_now().year)
    return and_(Resident.community_id == community_id, Resident.status == "active", possible)


def refusal(session: Session, staff: Staff | None, expr: str | Node, *, within_scope: bool = False,
            year: int | None = None) -> Forbidden | None:
    """Why this staff member may not count, preview or send this audience, or None when they may.

    An audience naming a health tag needs a role that may read health data, and everyone it could select
    within that staff member's scope; `within_scope` asks the scope of any audience (for doctors, who reach
    the preview but are no senders)."""
    node = parse(expr) if isinstance(expr, str) else node_or_raise(expr)
    health = names_health(node)
    if not health and not within_scope:
        return None
    if staff is None or (health and not health_access.may_read(staff)):
        return Forbidden(HEALTH_FORBIDDEN, code="health_audience_forbidden")
    outside = select(Resident.id).where(reach(staff.community_id, node, year=year),
                                        not_(health_access.scope(session, staff))).limit(1)
    if session.scalar(outside) is not None:
        return Forbidden(OUT_OF_SCOPE, code="audience_out_of_scope")
    return None


def authorize(session: Session, staff: Staff | None, expr: str | Node, *, purpose: str, ip: str | None = None,
              session_ref: str | None = None, within_scope: bool = False, year: int | None = None) -> Node:
    """The parsed audience, once this staff member may use it (see refusal); otherwise the refused attempt
    at a health audience is logged and Forbidden raised (the caller commits before re-raising, so it stays)."""
    node = parse(expr) if isinstance(expr, str) else node_or_raise(expr)
    refused = refusal(session, staff, node, within_scope=within_scope, year=year)
    if refused is not None:
        if staff is not None and names_health(node):
            health_access.record(session, staff, action="refused", purpose=purpose, ip=ip, session_ref=session_ref,
                                 detail=render(node))
        raise refused
    return node


def log_read(session: Session, staff: Staff, node: Node, *, purpose: str, ip: str | None = None,
             session_ref: str | None = None) -> None:
    """Log a read of an audience naming a health tag (nothing for other audiences): what was asked, not
    what it found."""
    if names_health(node):
        health_access.record(session, staff, action="count", purpose=purpose, ip=ip, session_ref=session_ref,
                             detail=render(node))


def read_count(session: Session, staff: Staff, expr: str | Node, *, purpose: str, ip: str | None = None,
               session_ref: str | None = None, within_scope: bool = False, year: int | None = None) -> int:
    """count() for a staff member: authorized, and logged when the audience names a health tag."""
    node = authorize(session, staff, expr, purpose=purpose, ip=ip, session_ref=session_ref,
                     within_scope=within_scope, year=year)
    size = count(session, staff.community_id, node, year=year)
    log_read(session, staff, node, purpose=purpose, ip=ip, session_ref=session_ref)
    return size


def read_preview(session: Session, staff: Staff, expr: str | Node, *, ip: str | None = None,
                 session_ref: str | None = None, sample: int = 10, within_scope: bool = False,
                 purpose: str = "campaign_preview", year: int | None = None) -> dict[str, Any]:
    """preview() for a staff member: authorized, count only for health audiences, and logged."""
    node = authorize(session, staff, expr, purpose=purpose, ip=ip, session_ref=session_ref,
                     within_scope=within_scope, year=year)
    result = preview(session, staff.community_id, node, sample=sample, year=year)
    log_read(session, staff, node, purpose=purpose, ip=ip, session_ref=session_ref)
    return result

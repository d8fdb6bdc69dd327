"""`flask staff ...`: create staff accounts and manage them from the command line."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from app.community.models import STAFF_ROLES, Community, Staff
from app.community.staff import create_staff, set_password
from app.core.db import db
from app.core.errors import AppError

staff_cli = AppGroup("staff", help="管理物业后台账号 (staff console accounts).")


def _community_id(given: int | None) -> int:
    if given is not None:
        return given
    ids = db.session.scalars(select(Community.id).limit(2)).all()
    if len(ids) != 1:
        raise click.UsageError("有多个小区或还没有小区：请用 --community 指定小区编号")
    return ids[0]


def _buildings(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").replace("，", ",").split(",") if part.strip()]


@staff_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(STAFF_ROLES), help="岗位")
@click.option("--buildings", default=None, help="负责的楼幢，逗号分隔，例如 1,2；不填 = 全小区")
@click.option("--password", default=None, help="不填则交互输入")
@click.option("--name", default=None, help="显示的姓名，默认同用户名")
@click.option("--community", "community_id", type=int, default=None, help="小区编号（只有一个小区时可省略）")
def create_command(username: str, role: str, buildings: str | None, password: str | None,
                   name: str | None, community_id: int | None) -> None:
    """Create a staff account with a hashed password."""
    if password is None:
        password = click.prompt("密码", hide_input=True, confirmation_prompt=True)
    try:
        staff = create_staff(db.session, community_id=_community_id(community_id), username=username,
                             role=role, password=password, name=name, buildings=_buildings(buildings))
        db.session.commit()
    except AppError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from err
    scope = "、".join(staff.building_scope) + "幢" if staff.building_scope else "全小区"
    click.echo(f"已创建账号 {staff.username}（{staff.role}，范围：{scope}）")


@staff_cli.command("set-password")
@click.argument("username")
@click.option("--password", default=None, help="不填则交互输入")
def set_password_command(username: str, password: str | None) -> None:
    """Replace a staff member's password."""
    staff = db.session.scalar(select(Staff).where(Staff.username == username))
    if staff is None:
        raise click.ClickException(f"没有账号 {username}")
    if password is None:
        password = click.prompt("新密码", hide_input=True, confirmation_prompt=True)
    try:
        set_password(db.session, staff, password)
        db.session.commit()
    except AppError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from err
    click.echo(f"已更新 {username} 的密码")


@staff_cli.command("deactivate")
@click.argument("username")
def deactivate_command(username: str) -> None:
    """Stop a staff account from signing in; open sessions end on their next request."""
    staff = db.session.scalar(select(Staff).where(Staff.username == username))
    if staff is None:
        raise click.ClickException(f"没有账号 {username}")
    staff.active = False
    db.session.commit()
    click.echo(f"已停用 {username}")


def init_app(app: Flask) -> None:
    """Register the `flask staff` command group."""
    app.cli.add_command(staff_cli)

"""Command-line tools of the core: roster import and the demo community.

The commands own the transaction: services flush, these commit (or roll back).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import inspect
from tqdm import tqdm

from app.community.demo import seed_demo
from app.community.models import Community
from app.community.roster import import_roster, read_roster, resolve_community
from app.core.db import db
from app.core.errors import AppError, NotMigrated


def _require_schema() -> None:
    """A clean message instead of a traceback when `flask db upgrade` has not been run."""
    if not inspect(db.engine).has_table(Community.__tablename__):
        raise click.ClickException(NotMigrated().message)


residents_cli = AppGroup("residents", help="居民名册：导入、更新。")


@residents_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--community", "community_name", help="小区名称；缺省为第一个小区，没有则新建「邻里未来社区」。")
@click.option("--dry-run", is_flag=True, help="只检查并报告，不写入数据库。")
def import_residents(path: Path, community_name: str | None, dry_run: bool) -> None:
    """Import a roster (.csv or .xlsx): creates or updates residents, rooms and system tags."""
    _require_schema()
    try:
        lines = read_roster(path)
        community = resolve_community(db.session, community_name)
        with tqdm(total=len(lines), desc="导入名册", unit="行", file=sys.stderr, leave=False) as bar:
            report = import_roster(db.session, lines, community.id, progress=bar.update)
    except AppError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc

    if not report.ok:
        db.session.rollback()
        click.echo(report.summary(), err=True)
        for error in report.errors:
            click.echo(f"  {error}", err=True)
        raise SystemExit(1)
    if dry_run:
        db.session.rollback()
        click.echo(f"试运行（未写入）：「{community.name}」{report.summary()}")
        return
    db.session.commit()
    click.echo(f"已导入到「{community.name}」：{report.summary()}")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="已有小区时什么也不做。")
def seed_demo_command(if_empty: bool) -> None:
    """Create (or complete) the demo community 「邻里未来社区」 with residents, tags and staff."""
    if current_app.config.get("LINLI_ENV") != "development":
        raise click.ClickException("演示数据只用于开发环境（LINLI_ENV=development）：它带有公开的演示账号和密码。")
    _require_schema()
    result = seed_demo(db.session, if_empty=if_empty)
    if result is None:
        click.echo("已有小区，跳过演示数据（--if-empty）。")
        return
    db.session.commit()
    for line in result.lines():
        click.echo(line)


def init_app(app: Flask) -> None:
    """Register the core's flask commands."""
    app.cli.add_command(residents_cli)
    app.cli.add_command(seed_demo_command)

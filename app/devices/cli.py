"""flask devices …: listen (the supervised MQTT consumer), acl (mosquitto password file and per-device ACL),
rotate-secret and add (register a device, printing its secret once)."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.db import db
from app.core.errors import AppError
from app.devices import consumer
from app.devices.models import DEVICE_KINDS, Device
from app.devices.mqtt import broker_from_config, topic
from app.devices.registry import find_device, mqtt_username, register_device, rotate_secret

devices_cli = AppGroup("devices", help="设备：MQTT 接入、账号与权限、密钥。")


@devices_cli.command("listen")
@click.option("--client-id", default="linli-devices", show_default=True, help="稳定的客户端 ID（持久会话）")
@click.option("--batch", default=500, show_default=True, help="每个事务最多存多少条")
def listen_command(client_id: str, batch: int) -> None:
    """Consume device events from the broker until SIGTERM/SIGINT (restarting itself if it fails)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    broker = broker_from_config(current_app.config)
    click.echo(f"listening on {broker.host}:{broker.port} {broker.prefix}/+/+/event|state|ack as {client_id}")
    consumer.listen(current_app._get_current_object(), broker, client_id=client_id, stop=stop, batch_max=batch)


def acl_lines(devices: list[Device], prefix: str, service_user: str | None) -> list[str]:
    """The mosquitto ACL: each device publishes only its own event/state/ack and reads only its own cmd."""
    lines = []
    if service_user:
        lines += [f"user {service_user}", *(f"topic read {prefix}/+/+/{k}" for k in ("event", "state", "ack")),
                  f"topic write {prefix}/+/+/cmd", ""]
    for device in devices:
        lines.append(f"user {mqtt_username(device)}")
        for kind in ("event", "state", "ack"):
            lines.append(f"topic write {topic(prefix, device.community_id, device.code, kind)}")
        lines += [f"topic read {topic(prefix, device.community_id, device.code, 'cmd')}", ""]
    return lines


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)


@devices_cli.command("acl")
@click.option("--passwd", "passwd_path", type=click.Path(path_type=Path), required=True, help="密码文件路径")
@click.option("--acl", "acl_path", type=click.Path(path_type=Path), required=True, help="ACL 文件路径")
@click.option("--service-password-hash", default="", help="服务账号的 mosquitto 密码哈希（$7$…），可选")
def acl_command(passwd_path: Path, acl_path: Path, service_password_hash: str) -> None:
    """Write mosquitto's password file (devices' hashed secrets as stored) and the per-device ACL."""
    broker = broker_from_config(current_app.config)
    devices = list(db.session.scalars(select(Device).where(Device.active.is_(True), Device.secret_hash != "")
                                      .order_by(Device.community_id, Device.code)))
    service = broker.username if broker.username and service_password_hash else None
    users = [f"{mqtt_username(d)}:{d.secret_hash}" for d in devices]
    if service:
        users.insert(0, f"{service}:{service_password_hash}")
    _write(passwd_path, "\n".join(users) + "\n")
    _write(acl_path, "\n".join(acl_lines(devices, broker.prefix, service or broker.username)) + "\n")
    click.echo(f"{len(devices)} devices written to {passwd_path} and {acl_path}; reload mosquitto (SIGHUP)")


@devices_cli.command("rotate-secret")
@click.argument("community_id", type=int)
@click.argument("code")
def rotate_secret_command(community_id: int, code: str) -> None:
    """Give a device a new secret (printed once); run `flask devices acl` again for MQTT."""
    device = find_device(db.session, community_id, code)
    if device is None:
        raise click.ClickException(f"没有这个设备：{community_id}/{code}")
    secret = rotate_secret(device, seal_key=current_app.config["SECRET_KEY"], now=utcnow())
    db.session.commit()
    click.echo(f"{mqtt_username(device)} {secret}")


@devices_cli.command("add")
@click.argument("community_id", type=int)
@click.argument("code")
@click.argument("kind", type=click.Choice(DEVICE_KINDS))
@click.option("--name", default="")
@click.option("--building", default=None)
@click.option("--floor", type=int, default=None)
@click.option("--location", default="")
@click.option("--http", "http_only", is_flag=True, help="只支持 HTTP 的设备（自己来取指令）")
def add_command(community_id: int, code: str, kind: str, name: str, building: str | None, floor: int | None,
                location: str, http_only: bool) -> None:
    """Register a device and print its secret once."""
    try:
        device, secret = register_device(db.session, community_id=community_id, code=code, kind=kind, now=utcnow(),
                                         seal_key=current_app.config["SECRET_KEY"], name=name, building=building,
                                         floor=floor, location=location,
                                         settings={"transport": "http"} if http_only else {})
    except AppError as err:
        raise click.ClickException(err.message) from err
    db.session.commit()
    click.echo(f"{mqtt_username(device)} {secret}")


def init_app(app: Flask) -> None:
    """Register the devices command group."""
    app.cli.add_command(devices_cli)

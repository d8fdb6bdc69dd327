"""devices (设备与告警): the registry of edge devices, their MQTT and HTTP doors, events, commands and alarms.

Public surface: (being built).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing yet: the package is being built."""

"""The /wechat journal: messages that arrive while the database is down are kept on local disk and
handled when it is back, so a message WeChat was told we received (HTTP 200) is never lost.

One file per message, the Maildir way: written under tmp/, fsynced, renamed into new/ and the
directory fsynced, so a crash leaves either a whole entry or none. Names sort by arrival time, and
one drainer at a time (an flock on drain.lock) handles them in that order. An entry is removed only
after its message is committed; handling one twice is harmless, because the message's dedup key
stops a second effect. An entry that cannot be handled at all moves to failed/ for an operator.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_sequence = itertools.count()


class Journal:
    """A directory of journal entries (JSON objects), oldest first."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.tmp, self.new, self.failed = self.root / "tmp", self.root / "new", self.root / "failed"

    def _ensure(self) -> None:
        for folder in (self.tmp, self.new, self.failed):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def append(self, record: dict[str, Any]) -> Path:
        """Write one entry durably (file and directory fsynced) and return its path."""
        self._ensure()
        name = f"{time.time_ns():020d}.{os.getpid()}.{threading.get_ident()}.{next(_sequence)}.json"
        data = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        staging = self.tmp / name
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        target = self.new / name
        os.rename(staging, target)
        _fsync_dir(self.new)
        return target

    def entries(self) -> list[Path]:
        """The entries waiting, oldest first."""
        try:
            return sorted(self.new.glob("*.json"))
        except FileNotFoundError:
            return []

    def backlog(self) -> int:
        """How many entries wait."""
        return len(self.entries())

    def writable(self) -> bool:
        """Whether an entry could be written now (the folders exist or can be made, and accept files)."""
        try:
            self._ensure()
        except OSError:
            return False
        return os.access(self.tmp, os.W_OK) and os.access(self.new, os.W_OK)

    def failed_count(self) -> int:
        """How many entries could not be handled and wait for an operator."""
        try:
            return sum(1 for _ in self.failed.glob("*.json"))
        except FileNotFoundError:
            return 0

    @staticmethod
    def read(path: Path) -> dict[str, Any] | None:
        """An entry's record; None when it is gone (another drainer finished it) or unreadable."""
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except ValueError:  # a torn write cannot reach new/ (rename after fsync); this is hand-made junk
            log.error("journal: %s is not JSON", path.name)
            return None

    def remove(self, path: Path) -> None:
        """Forget an entry whose message is committed."""
        path.unlink(missing_ok=True)

    def set_aside(self, path: Path, reason: str) -> None:
        """Move an entry that cannot be handled to failed/, with the reason beside it."""
        self._ensure()
        (self.failed / f"{path.name}.reason").write_text(reason[:2000], encoding="utf-8")
        os.replace(path, self.failed / path.name)
        log.error("journal: %s set aside: %s", path.name, reason[:200])

    @contextmanager
    def draining(self) -> Iterator[bool]:
        """Hold the drain lock if nobody else does; yields whether this caller holds it."""
        self._ensure()
        with open(self.root / "drain.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

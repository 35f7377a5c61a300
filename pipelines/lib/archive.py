"""The landing archive: every export kept byte for byte, named by its content hash (sources.md).

Nothing downstream reads a source directly. An export is stored once however often it arrives;
each distinct place it came from is recorded as an arrival. Files are written to a temporary name
and renamed, so a crash never leaves a half-written export behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lib.warehouse import table_exists

_CHUNK = 1 << 20
_TMP_PID = re.compile(r"\.tmp(\d+)$|\.(\d+)\.tmp(?:\.wal)?$")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_temps(paths) -> list[Path]:
    """Delete temporary files whose writer (the pid in their name) is gone: what a killed run left
    half-written. A live writer's file is left alone. Returns what was removed."""
    removed = []
    for path in paths:
        match = _TMP_PID.search(path.name)
        if not match or not path.is_file():
            continue
        pid = int(match.group(1) or match.group(2))
        if pid != os.getpid() and _pid_alive(pid):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


@dataclass(frozen=True)
class ArchivedExport:
    export_id: str
    feed: str
    file_name: str
    archive_path: Path
    is_new: bool


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sort_key(origin: str, file_name: str, arrived_at: datetime) -> str:
    """Order in which "the later export wins" (sources.md): among files the name that sorts last;
    an HTTP pull is later than any file and than earlier pulls."""
    if origin == "http":
        return f"1|{arrived_at.strftime('%Y-%m-%dT%H:%M:%S.%f')}|{file_name}"
    return f"0|{file_name}"


class Archive:
    def __init__(self, root: Path, con: duckdb.DuckDBPyConnection):
        self.root = Path(root)
        self.con = con

    def sweep(self, feed: str) -> list[Path]:
        """Remove the temporary files a killed run left in a feed's archive (fault drill 1): the export
        itself is copied again from its source, its sidecar rewritten."""
        folder = self.root / feed
        return remove_dead_temps(folder.glob("*/*.tmp*")) if folder.is_dir() else []

    def _target(self, feed: str, export_id: str, file_name: str) -> Path:
        suffix = "".join(Path(file_name).suffixes[-1:]).lower() or ".bin"
        if len(suffix) > 8 or not suffix[1:].isalnum():
            suffix = ".bin"
        return self.root / feed / export_id[:2] / f"{export_id}{suffix}"

    def _store(self, feed: str, export_id: str, file_name: str, write) -> Path:
        target = self._target(feed, export_id, file_name)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + f".tmp{os.getpid()}")
            write(tmp)
            os.replace(tmp, target)
        return target

    def add_file(self, feed: str, path: Path, *, origin_uri: str | None = None) -> ArchivedExport:
        stat = path.stat()
        export_id = self._known_hash(path, stat)
        if export_id is None or not self._target(feed, export_id, path.name).exists():
            export_id = sha256_file(path)
        target = self._store(feed, export_id, path.name, lambda tmp: shutil.copyfile(path, tmp))
        self.con.execute(
            "INSERT OR REPLACE INTO raw.source_file_hashes VALUES (?, ?, ?, ?)",
            [str(path), stat.st_size, stat.st_mtime_ns, export_id],
        )
        return self._record(feed, export_id, path.name, "file", origin_uri or str(path), target, stat.st_size)

    def add_files(self, feed: str, paths: list[Path]) -> list[ArchivedExport]:
        """`add_file` for each path. A file already archived and recorded exactly as it is (same path,
        size and modification time, the same name on record, its arrival, archive copy and sidecar
        there) is taken as it stands, with no statement run: the nightly case for nearly every file,
        where `add_file` would only re-write what is recorded (~4 statements a file)."""
        recorded = {
            path: (size, mtime, export_id, name, origin)
            for path, size, mtime, export_id, name, origin in self.con.execute(
                """SELECT h.path, h.size_bytes, h.mtime_ns, h.export_id, e.file_name, e.origin
                   FROM raw.source_file_hashes AS h
                   JOIN raw.exports AS e ON e.export_id = h.export_id AND e.feed = ?
                   JOIN raw.export_arrivals AS a ON a.export_id = h.export_id AND a.origin_uri = h.path""",
                [feed],
            ).fetchall()
        }
        exports = []
        for path in paths:
            known = recorded.get(str(path))
            if known is not None:
                size, mtime, export_id, name, origin = known
                stat = path.stat()
                target = self._target(feed, export_id, path.name)
                renamed = origin == "file" and path.name > name  # add_file would record the later name
                if (
                    (stat.st_size, stat.st_mtime_ns) == (size, mtime)
                    and not renamed
                    and target.exists()
                    and target.with_name(export_id + ".meta.json").exists()
                ):
                    exports.append(ArchivedExport(export_id, feed, path.name, target, False))
                    continue
            exports.append(self.add_file(feed, path))
        return exports

    def _known_hash(self, path: Path, stat: os.stat_result) -> str | None:
        """The hash recorded for this path when its size and modification time are unchanged."""
        row = self.con.execute(
            "SELECT export_id FROM raw.source_file_hashes WHERE path = ? AND size_bytes = ? AND mtime_ns = ?",
            [str(path), stat.st_size, stat.st_mtime_ns],
        ).fetchone()
        return row[0] if row else None

    def add_bytes(
        self, feed: str, name: str, content: bytes, *, origin: str, origin_uri: str
    ) -> ArchivedExport:
        export_id = hashlib.sha256(content).hexdigest()
        target = self._store(feed, export_id, name, lambda tmp: tmp.write_bytes(content))
        return self._record(feed, export_id, name, origin, origin_uri, target, len(content))

    def _record(
        self, feed: str, export_id: str, name: str, origin: str, uri: str, target: Path, size: int
    ) -> ArchivedExport:
        now = datetime.now(UTC).replace(tzinfo=None)
        known = self.con.execute(
            "SELECT file_name, origin FROM raw.exports WHERE export_id = ?", [export_id]
        ).fetchone()
        new_arrival = self.con.execute(
            """INSERT INTO raw.export_arrivals VALUES (?, ?, ?, ?, ?)
               ON CONFLICT DO NOTHING RETURNING export_id""",
            [export_id, feed, name, uri, now],
        ).fetchall()
        if known is None:
            self.con.execute(
                """INSERT INTO raw.exports (export_id, feed, file_name, origin, origin_uri, arrived_at,
                       size_bytes, archive_path, sort_key)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [export_id, feed, name, origin, uri, now, size, str(target), sort_key(origin, name, now)],
            )
        elif origin == "file" and known[1] == "file" and name > known[0]:
            # Same bytes under several names: order by the name that sorts last, whatever arrived first.
            self.con.execute(
                "UPDATE raw.exports SET file_name = ?, sort_key = ? WHERE export_id = ?",
                [name, sort_key("file", name, now), export_id],
            )
            self._rename_checked_rows(feed, export_id, name, sort_key("file", name, now))
        # A run killed between recording an arrival and writing the sidecar left no sidecar: write it now.
        if new_arrival or not target.with_name(export_id + ".meta.json").exists():
            self._write_sidecar(target, export_id, feed)
        return ArchivedExport(export_id, feed, name, target, known is None)

    def _rename_checked_rows(self, feed: str, export_id: str, name: str, key: str) -> None:
        """Rows already checked carry their export's name and sort key: keep them in step."""
        self.con.execute(
            "UPDATE raw.quarantine_rows SET file_name = ? WHERE feed = ? AND export_id = ?",
            [name, feed, export_id],
        )
        if table_exists(self.con, "raw", feed):
            self.con.execute(
                f'UPDATE raw."{feed}" SET file_name = ?, sort_key = ? WHERE export_id = ?',
                [name, key, export_id],
            )

    def _write_sidecar(self, target: Path, export_id: str, feed: str) -> None:
        arrivals = self.con.execute(
            """SELECT file_name, origin_uri, strftime(arrived_at, '%Y-%m-%dT%H:%M:%SZ')
               FROM raw.export_arrivals WHERE export_id = ? ORDER BY arrived_at, origin_uri""",
            [export_id],
        ).fetchall()
        meta = {
            "export_id": export_id,
            "feed": feed,
            "arrivals": [{"file_name": n, "origin": u, "arrived_at": t} for n, u, t in arrivals],
        }
        sidecar = target.with_name(export_id + ".meta.json")
        tmp = sidecar.with_name(sidecar.name + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, sidecar)

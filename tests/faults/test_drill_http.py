"""Drill 2 (issue 7): a flaky payments API on 127.0.0.1, pulled through the ingestion path
(PAR_PAYMENTS_URL / PAR_PAYMENTS_TOKEN → ingest → archive → raw). Each pull either completes with exactly
the source's rows, or fails with a message naming the feed, the window and the page — and then nothing of
the failed window is in the archive or the raw tables; the next run, with the source healed, completes.

tests/test_http_source.py covers the client alone; here the whole path is exercised. Retries use a small
policy and a recording sleep, so the drill takes seconds.
"""

from __future__ import annotations

import functools
import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from builders import write_registers
from conftest import ingest_all, query

from pipelines.lib import http_source
from pipelines.lib.http_source import RetryPolicy, SourceError

TOKEN = "drill-token"
AS_OF = "2021-02-20"  # two windows: 2021-01-01..31 and 2021-02-01..20
PAGES = 3
POLICY = RetryPolicy(max_tries=3, backoff_base=0.01, max_backoff=2.0, connect_timeout=0.5, read_timeout=0.4)


def item(month: str, page: int, i: int) -> dict:
    n = (page - 1) * 2 + i
    return {
        "ma_giao_dich": f"GD-{month}-{n}",
        "ma_ho_so": f"S01-{month[2:4]}{month[5:7]}01-{n:04d}",
        "ma_thu_tuc": "1.004227",
        "ma_don_vi": "S01",
        "thoi_diem": f"{month}-0{page}T09:0{i}:00",
        "so_tien": 10000 * n,
        "kenh": "dvcqg",
        "trang_thai": "thanh_cong",
    }


def page_body(month: str, page: int) -> dict:
    return {"items": [item(month, page, 1), item(month, page, 2)], "page": page, "pages": PAGES}


ALL_IDS = sorted(f"GD-{m}-{n}" for m in ("2021-01", "2021-02") for n in range(1, 2 * PAGES + 1))


@dataclass
class Api:
    """Scripted server: `fault(month, page, call)` returns None (answer normally) or a fault name."""

    fault: object = None
    calls: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def serve(api: Api):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - http.server naming
            q = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            month, page = q["from"][:7], int(q["page"])
            with api.lock:
                n = api.calls[(month, page)] = api.calls.get((month, page), 0) + 1
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self.reply(401, b"")
            fault = api.fault(month, page, n) if api.fault else None
            body = page_body(month, page)
            if fault == "reset":  # drop the connection with a TCP RST, no answer at all
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return None
            if fault == "slow":
                time.sleep(POLICY.read_timeout * 2.5)
            if fault == "500":
                return self.reply(500, b"oops")
            if fault == "429":
                return self.reply(429, b"", {"Retry-After": "1"})
            if fault == "repeat":  # the previous page again (offset paging while rows were inserted)
                body = {**page_body(month, page - 1), "page": page}
            if fault == "missing":
                return self.reply(404, b"")
            if fault == "empty":
                body = {"items": [], "page": page, "pages": PAGES}
            data = json.dumps(body).encode()
            if fault == "truncated":  # a complete HTTP answer whose JSON is cut short
                data = data[: len(data) // 2]
            return self.reply(200, data)

        def reply(self, status, data, headers=None):
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                self.close_connection = True

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):  # resets and timeouts are the point here
            pass

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server


@pytest.fixture
def api(monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    sleeps: list[float] = []
    monkeypatch.setattr(
        http_source,
        "pull_feed",
        functools.partial(http_source.pull_feed, policy=POLICY, sleep=sleeps.append),
    )
    state = Api()
    server = serve(state)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    state.sleeps = sleeps
    yield state
    server.shutdown()
    server.server_close()


def raw_payments_rows(settings) -> int:
    """raw.payments is created by the first rebuild; a failed first pull never gets that far."""
    exists = query(
        settings,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = 'payments'",
    )
    return query(settings, "SELECT count(*) FROM raw.payments")[0][0] if exists[0][0] else 0


def feb(page: int, fault: str, times: int = 99):
    """The fault on one page of the February window, for its first `times` calls."""
    return lambda month, p, n: fault if (month, p) == ("2021-02", page) and n <= times else None


# name, fault script, expected: None = completes; else (page named in the error, words of the reason)
SCENARIOS = [
    ("connection reset once", feb(2, "reset", 1), None),
    ("slow past the read timeout once", feb(1, "slow", 1), None),
    ("500 twice", feb(3, "500", 2), None),
    ("429 with Retry-After", feb(2, "429", 1), None),
    ("truncated JSON once", feb(3, "truncated", 1), None),
    ("truncated JSON always", feb(3, "truncated"), (3, "gave up after 3 tries.*not valid JSON")),
    ("500 always", feb(2, "500"), (2, "gave up after 3 tries.*HTTP 500")),
    ("connection reset always", feb(1, "reset"), (1, "gave up after 3 tries")),
    ("page repeats", feb(2, "repeat"), (2, "repeats")),
    ("page missing (404)", feb(2, "missing"), (2, "HTTP 404")),
    ("page missing (empty)", feb(2, "empty"), (2, "empty")),
]


@pytest.mark.parametrize("name, fault, failure", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_flaky_payments_api(name, fault, failure, api, make_settings, tmp_path):
    write_registers(tmp_path / "sources")
    settings = make_settings(as_of=AS_OF, PAR_PAYMENTS_URL=api.url, PAR_PAYMENTS_TOKEN=TOKEN)
    ingest_all(settings, ["units", "procedures"])
    api.fault = fault
    started = time.monotonic()
    if failure is None:
        ingest_all(settings, ["payments"])
    else:
        page, reason = failure
        with pytest.raises(SourceError) as err:
            ingest_all(settings, ["payments"])
        message = str(err.value)
        assert message.startswith("payments: window 2021-02-01..2021-02-20, page "), message
        assert f"page {page}" in message and TOKEN not in message
        assert re.search(reason, message), message
        # nothing of the failed pull anywhere; January, pulled whole before it, is archived, not loaded
        assert query(settings, "SELECT file_name, parse_status FROM raw.exports WHERE feed = 'payments'") == [
            ("payments_2021-01-01_2021-01-31.json", None)
        ]
        assert query(settings, "SELECT count(*) FROM raw.checked_exports WHERE feed = 'payments'") == [(0,)]
        assert raw_payments_rows(settings) == 0
        archived = [p for p in (settings.archive / "payments").rglob("*") if p.is_file()]
        assert len(archived) == 2  # January's export and its sidecar
        api.fault = None  # the source heals; the next run completes
        ingest_all(settings, ["payments"])
    assert time.monotonic() - started < 20
    assert [r[0] for r in query(settings, "SELECT ma_giao_dich FROM raw.payments ORDER BY 1")] == ALL_IDS
    assert query(settings, "SELECT count(*) FROM raw.quarantine_rows WHERE feed = 'payments'") == [(0,)]
    assert query(
        settings, "SELECT file_name, origin, parse_status FROM raw.exports WHERE feed = 'payments' ORDER BY 1"
    ) == [
        ("payments_2021-01-01_2021-01-31.json", "http", "parsed"),
        ("payments_2021-02-01_2021-02-20.json", "http", "parsed"),
    ]
    if name == "429 with Retry-After":
        assert 1.0 in api.sleeps

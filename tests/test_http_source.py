"""pull_feed against a real HTTP server on 127.0.0.1: retries, auth, paging and canonical bytes.

A real server (not mocked requests) is used because what matters is how requests/urllib3 behave on the
wire: timeouts, refused connections, bodies cut short. Backoff goes through a recording fake sleep, so
the suite stays fast.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from pipelines.lib.http_source import (
    RESOURCE_BY_FEED,
    PulledExport,
    RetryPolicy,
    SourceAuthError,
    SourceError,
    SourceUnavailableError,
    _retry_after_seconds,
    month_windows,
    pull_feed,
    token_env_var,
    url_env_var,
)

TOKEN = "s3cr3t-token-value"
MARCH = {"date_from": date(2024, 3, 1), "date_to": date(2024, 3, 31)}
FAST = RetryPolicy(max_tries=3, backoff_base=0.01, max_backoff=2.0, connect_timeout=0.5, read_timeout=1.0)


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (read-timeout tests)
    cut_to: int | None = None  # send only this many body bytes, though Content-Length says all


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]

    @property
    def page(self) -> int:
        return int(self.query["page"])


class FakeApi:
    """Loopback server; `respond(seen, n_calls_for_that_page)` decides each answer."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.respond = lambda seen, n: Reply(404)
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms ACK stalls

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                parts = urlsplit(self.path)
                seen = Seen(
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                )
                with api._lock:
                    api.requests.append(seen)
                    n = sum(1 for r in api.requests if r.query.get("page") == seen.query.get("page"))
                reply = api.respond(seen, n)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body if reply.body is not None else b""
                if isinstance(body, dict):
                    body = json.dumps(body, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    if reply.cut_to is not None:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    self.wfile.write(body if reply.cut_to is None else body[: reply.cut_to])
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (timeout): nothing to answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02})
        self._thread.daemon = True
        self._thread.start()

    def pages_of(self, pages: list[list[dict]]) -> None:
        """Serve a fixed data set split in pages."""
        self.respond = lambda seen, n: Reply(
            body={"items": pages[seen.page - 1], "page": seen.page, "pages": len(pages)}
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """requests honours proxy variables; make sure 127.0.0.1 is never sent through one."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def api():
    server = FakeApi()
    yield server
    server.close()


@pytest.fixture
def sleeps():
    calls: list[float] = []
    return calls


def pull(api: FakeApi, sleeps: list[float], **kw) -> PulledExport:
    kw.setdefault("policy", FAST)
    return pull_feed("payments", api.url, **MARCH, sleep=sleeps.append, **kw)


def tx(i: int) -> dict:
    return {
        "ma_giao_dich": f"GD{i:05d}",
        "ma_don_vi": "UBND-NGHILOC",
        "ten": "Lệ phí hộ tịch",  # non-ASCII must stay as UTF-8 text, not \\u escapes
        "so_tien": 50000 + i,
        "kenh": "dvcqg",
    }


PAGES = [[tx(1), tx(2)], [tx(3), tx(4)], [tx(5)]]


# --- success -------------------------------------------------------------------------------------------


def test_multi_page_pull_is_one_canonical_export(api, sleeps, caplog):
    api.pages_of(PAGES)
    with caplog.at_level(logging.INFO, logger="pipelines.lib.http_source"):
        first = pull(api, sleeps, token=TOKEN)
    second = pull(api, sleeps, token=TOKEN)

    assert first.feed == "payments"
    assert first.name == "payments_2024-03-01_2024-03-31.json"
    assert first.pages == 3
    assert json.loads(first.content) == {"items": [tx(i) for i in range(1, 6)]}
    assert first.content == json.dumps(
        {"items": [tx(i) for i in range(1, 6)]}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    assert "Lệ phí".encode() in first.content
    # Same data, same bytes: the archive's content hash must not change between pulls.
    assert hashlib.sha256(first.content).digest() == hashlib.sha256(second.content).digest()
    assert sleeps == []

    asked = [(r.path, r.query) for r in api.requests[:3]]
    assert asked == [
        ("/api/v1/transactions", {"from": "2024-03-01", "to": "2024-03-31", "page": str(n)})
        for n in (1, 2, 3)
    ]
    assert first.origin_uri == f"{api.url}transactions?from=2024-03-01&to=2024-03-31&page=1"
    assert [m for m in caplog.messages if "page" in m] == [
        "payments 2024-03-01..2024-03-31: page 1/3, 2 items",
        "payments 2024-03-01..2024-03-31: page 2/3, 2 items",
        "payments 2024-03-01..2024-03-31: page 3/3, 1 items",
    ]


def test_bearer_token_is_sent_but_never_shown(api, sleeps, caplog):
    api.pages_of([[tx(1)]])
    with caplog.at_level(logging.DEBUG):
        export = pull(api, sleeps, token=TOKEN)
    assert api.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in export.origin_uri
    assert TOKEN not in caplog.text


def test_no_token_sends_no_authorization_header(api, sleeps):
    api.pages_of([[tx(1)]])
    pull(api, sleeps)
    assert "authorization" not in api.requests[0].headers


def test_empty_window_is_an_export_with_no_items(api, sleeps):
    api.respond = lambda seen, n: Reply(body={"items": [], "page": 1, "pages": 0})
    export = pull(api, sleeps)
    assert export.content == b'{"items":[]}'
    assert export.pages == 1
    assert len(api.requests) == 1


def test_uses_and_keeps_the_callers_session(api, sleeps):
    api.pages_of(PAGES)
    with requests.Session() as session:
        session.trust_env = False
        export = pull(api, sleeps, session=session)
        assert export.pages == 3
        pull(api, sleeps, session=session)  # still usable: pull_feed must not close a session it was given


# --- retries -------------------------------------------------------------------------------------------


def test_500_then_success(api, sleeps):
    ok = {"items": [tx(1)], "page": 1, "pages": 1}
    api.respond = lambda seen, n: Reply(500, b"oops") if n == 1 else Reply(body=ok)
    export = pull(api, sleeps, policy=RetryPolicy(max_tries=3, backoff_base=0.5))
    assert json.loads(export.content)["items"] == [tx(1)]
    assert len(api.requests) == 2
    assert sleeps == [0.5]


def test_429_honours_retry_after_seconds(api, sleeps):
    ok = {"items": [tx(1)], "page": 1, "pages": 1}
    api.respond = lambda seen, n: Reply(429, headers={"Retry-After": "1"}) if n == 1 else Reply(body=ok)
    pull(api, sleeps)
    assert sleeps == [1]
    assert len(api.requests) == 2


def test_503_retry_after_http_date_is_capped_at_max_backoff(api, sleeps):
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=600), usegmt=True)
    ok = {"items": [], "page": 1, "pages": 1}
    api.respond = lambda seen, n: Reply(503, headers={"Retry-After": later}) if n == 1 else Reply(body=ok)
    pull(api, sleeps, policy=RetryPolicy(max_tries=2, max_backoff=5.0))
    assert sleeps == [5.0]


def test_retry_after_parsing():
    now = datetime(2024, 3, 5, 12, 0, 0, tzinfo=UTC)
    assert _retry_after_seconds("7", now) == 7.0
    assert _retry_after_seconds("Tue, 05 Mar 2024 12:00:30 GMT", now) == 30.0
    assert _retry_after_seconds("Tue, 05 Mar 2024 11:00:00 GMT", now) == 0.0  # in the past: go now
    assert _retry_after_seconds("soon", now) is None
    assert _retry_after_seconds(None, now) is None


def test_backoff_is_exponential_and_capped():
    policy = RetryPolicy(backoff_base=0.5, max_backoff=3.0)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_read_timeout_then_success(api, sleeps):
    ok = {"items": [tx(1)], "page": 1, "pages": 1}
    api.respond = lambda seen, n: Reply(body=ok, delay=0.6 if n == 1 else 0.0)
    policy = RetryPolicy(max_tries=2, backoff_base=0.01, connect_timeout=0.5, read_timeout=0.2)
    started = time.monotonic()
    export = pull(api, sleeps, policy=policy)
    assert time.monotonic() - started < 0.6  # the client did not wait for the slow answer
    assert export.pages == 1
    assert len(api.requests) == 2
    assert sleeps == [0.01]


def test_connection_refused_gives_up_after_max_tries_naming_the_feed(sleeps):
    with socket.socket() as probe:  # a port that was just free: nothing listens there now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = RetryPolicy(max_tries=3, backoff_base=0.5, connect_timeout=0.5)
    with pytest.raises(SourceUnavailableError) as err:
        pull_feed(
            "payments", f"http://127.0.0.1:{port}", **MARCH, token=TOKEN, policy=policy, sleep=sleeps.append
        )
    message = str(err.value)
    assert "payments" in message and "2024-03-01..2024-03-31" in message and "page 1" in message
    assert "3 tries" in message
    assert TOKEN not in message
    assert sleeps == [0.5, 1.0]


def test_5xx_every_time_is_unavailable_after_exactly_max_tries(api, sleeps):
    api.respond = lambda seen, n: Reply(502)
    with pytest.raises(SourceUnavailableError, match=r"payments: window 2024-03-01\.\.2024-03-31, page 1"):
        pull(api, sleeps, token=TOKEN)
    assert len(api.requests) == FAST.max_tries
    assert len(sleeps) == FAST.max_tries - 1


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param("content_length", id="connection-closed-before-content-length"),
        pytest.param("json", id="complete-response-invalid-json"),
    ],
)
def test_truncated_body_is_retried_then_fails_naming_feed_and_page(api, sleeps, cut):
    full = json.dumps({"items": [tx(1), tx(2)], "page": 2, "pages": 2}).encode()

    def respond(seen, n):
        if seen.page == 1:
            return Reply(body={"items": [tx(0)], "page": 1, "pages": 2})
        if cut == "content_length":
            return Reply(body=full, cut_to=len(full) // 2)
        return Reply(body=full[: len(full) // 2])

    api.respond = respond
    with pytest.raises(SourceUnavailableError) as err:
        pull(api, sleeps, token=TOKEN)
    assert "payments" in str(err.value) and "page 2" in str(err.value)
    assert TOKEN not in str(err.value)
    assert sum(r.page == 2 for r in api.requests) == FAST.max_tries


def test_truncated_once_then_whole_succeeds(api, sleeps):
    full = json.dumps({"items": [tx(1)], "page": 1, "pages": 1}).encode()
    api.respond = lambda seen, n: Reply(body=full, cut_to=10) if n == 1 else Reply(body=full)
    assert json.loads(pull(api, sleeps).content) == {"items": [tx(1)]}


# --- failures that must not be retried -----------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_is_immediate_and_names_the_token_variable(api, sleeps, status):
    api.respond = lambda seen, n: Reply(status, b'{"error":"bad token"}')
    with pytest.raises(SourceAuthError) as err:
        pull(api, sleeps, token=TOKEN)
    message = str(err.value)
    assert message.startswith(f"payments: HTTP {status} from http://127.0.0.1:")
    assert "check PAR_PAYMENTS_TOKEN" in message
    assert TOKEN not in message
    assert len(api.requests) == 1
    assert sleeps == []


def test_other_4xx_is_a_source_error_with_the_status(api, sleeps):
    api.respond = lambda seen, n: Reply(404)
    with pytest.raises(SourceError, match="HTTP 404") as err:
        pull(api, sleeps)
    assert not isinstance(err.value, SourceUnavailableError | SourceAuthError)
    assert "payments" in str(err.value)
    assert len(api.requests) == 1


def test_page_count_changing_mid_pull_is_an_error(api, sleeps):
    def respond(seen, n):
        # page 1 says 2 pages; by page 2 more rows arrived and the server says 3
        return Reply(body={"items": [tx(seen.page)], "page": seen.page, "pages": 2 if seen.page == 1 else 3})

    api.respond = respond
    with pytest.raises(SourceUnavailableError, match="page 2: paging changed") as err:
        pull(api, sleeps)
    assert "payments" in str(err.value)
    assert len(api.requests) == 2


def test_wrong_page_number_is_an_error(api, sleeps):
    api.respond = lambda seen, n: Reply(body={"items": [tx(1)], "page": 1, "pages": 2})
    with pytest.raises(SourceUnavailableError, match="page 2: server answered page 1"):
        pull(api, sleeps)


@pytest.mark.parametrize(
    "body, reason",
    [
        ({"page": 1, "pages": 1}, "'items' is missing"),
        ({"items": {"a": 1}, "page": 1, "pages": 1}, "'items' is not a list"),
        ({"items": [], "page": 1}, "'pages' is None"),
        (b"[1, 2]", "not an object"),
    ],
)
def test_malformed_answer_is_unavailable_naming_feed_and_page(api, sleeps, body, reason):
    api.respond = lambda seen, n: Reply(body=body)
    with pytest.raises(SourceUnavailableError, match=reason) as err:
        pull(api, sleeps)
    assert "payments: window 2024-03-01..2024-03-31, page 1" in str(err.value)


def test_invalid_arguments_fail_before_any_request(api, sleeps):
    with pytest.raises(ValueError, match="unknown feed"):
        pull_feed("nope", api.url, **MARCH)
    with pytest.raises(ValueError, match="ends before it starts"):
        pull_feed("payments", api.url, date_from=date(2024, 3, 2), date_to=date(2024, 3, 1))
    with pytest.raises(ValueError, match="not http"):
        pull_feed("payments", "ftp://127.0.0.1/x", **MARCH)
    assert api.requests == []


# --- helpers -------------------------------------------------------------------------------------------


def test_env_var_names_and_resources():
    assert token_env_var("payments") == "PAR_PAYMENTS_TOKEN"
    assert url_env_var("national_indices") == "PAR_NATIONAL_INDICES_URL"
    assert RESOURCE_BY_FEED["payments"] == "transactions"


def test_each_feed_uses_its_resource(api, sleeps):
    api.pages_of([[]])
    for feed, resource in RESOURCE_BY_FEED.items():
        export = pull_feed(feed, api.url.rstrip("/"), **MARCH, policy=FAST, sleep=sleeps.append)
        assert export.name == f"{feed}_2024-03-01_2024-03-31.json"
        assert api.requests[-1].path == f"/api/v1/{resource}"


def test_month_windows():
    assert month_windows(date(2023, 11, 15), date(2024, 2, 10)) == [
        (date(2023, 11, 1), date(2023, 11, 30)),
        (date(2023, 12, 1), date(2023, 12, 31)),
        (date(2024, 1, 1), date(2024, 1, 31)),
        (date(2024, 2, 1), date(2024, 2, 10)),
    ]
    assert month_windows(date(2024, 2, 1), date(2024, 2, 29)) == [(date(2024, 2, 1), date(2024, 2, 29))]
    assert month_windows(date(2023, 2, 1), date(2023, 3, 1)) == [
        (date(2023, 2, 1), date(2023, 2, 28)),
        (date(2023, 3, 1), date(2023, 3, 1)),
    ]
    assert month_windows(date(2024, 3, 1), date(2024, 2, 1)) == []

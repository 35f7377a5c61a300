"""Pull one feed window from a production system's paged HTTP API (sources.md, "How exports arrive").

One pull (all its pages) becomes ONE export: the items of every page, in page order, serialised as
canonical JSON so that the same data pulled twice has the same bytes and therefore the same content hash
in the landing archive. Nothing partial is ever returned: either every page arrived and agreed on the
paging, or an exception says which feed, window and page failed (quality.md, the HTTP rows).

Transient trouble (timeouts, dropped connections, truncated bodies, 429, 5xx) is retried per page with
exponential backoff and a bounded number of tries; 401/403 fail at once, because retrying a bad credential
only locks the account. The token travels in the Authorization header only: it is never put in a URL, a
log line or an exception message.
"""

from __future__ import annotations

import calendar
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

__all__ = [
    "RESOURCE_BY_FEED",
    "PulledExport",
    "RetryPolicy",
    "SourceAuthError",
    "SourceError",
    "SourceUnavailableError",
    "month_windows",
    "pull_feed",
    "token_env_var",
    "url_env_var",
]

RESOURCE_BY_FEED = {
    "payments": "transactions",
    "dossiers": "dossiers",
    "surveys": "responses",
    "self_report": "indicators",
    "national_indices": "indices",
}

# Transport failures worth another try. ConnectionError covers ConnectTimeout and refused/reset
# connections; ChunkedEncodingError is what requests raises when a body ends before its Content-Length.
_TRANSIENT_EXCEPTIONS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_RETRY_AFTER_STATUSES = frozenset({429, 503})


class SourceError(RuntimeError):
    """A feed could not be pulled; the message names the feed (and window/page when relevant)."""


class SourceAuthError(SourceError):
    """401/403: the credential is wrong or missing; retrying would not help."""


class SourceUnavailableError(SourceError):
    """Retries exhausted, or the answer was malformed or its paging inconsistent."""


@dataclass(frozen=True)
class PulledExport:
    feed: str
    name: str
    content: bytes
    origin_uri: str
    pages: int


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one page. Tries are per page, so one bad page does not starve the others."""

    max_tries: int = 5
    backoff_base: float = 0.5
    max_backoff: float = 30.0
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Delay after failed try number `attempt` (1-based): base, 2·base, 4·base, … capped."""
        return min(self.max_backoff, self.backoff_base * 2 ** (attempt - 1))


def token_env_var(feed: str) -> str:
    return f"PAR_{feed.upper()}_TOKEN"


def url_env_var(feed: str) -> str:
    return f"PAR_{feed.upper()}_URL"


def month_windows(first: date, last: date) -> list[tuple[date, date]]:
    """Calendar-month windows [1st, last day] covering first..last, the last one clipped to `last`.

    Monthly windows keep each pull (and so each archived export) a stable, re-pullable unit: a month
    pulled again after a correction yields a new version of that month only. The first window starts on
    the 1st of `first`'s month so it is the same window whatever day the range starts on.
    """
    windows: list[tuple[date, date]] = []
    year, month = first.year, first.month
    while date(year, month, 1) <= last:
        end = date(year, month, calendar.monthrange(year, month)[1])
        windows.append((date(year, month, 1), min(end, last)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return windows


def _redact_url(url: str) -> str:
    """Drop any user:password@ from a URL so a base URL carrying credentials never leaks either."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or HTTP date); None when absent/unusable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # an HTTP date is always GMT
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _reject_constant(name: str) -> float:
    # NaN/Infinity are not JSON; accepting them would make the canonical export invalid JSON.
    raise ValueError(f"non-standard JSON constant {name}")


class _Transient(Exception):
    """A try failed in a way another try may fix; carries the reason and any server-requested delay."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _Puller:
    def __init__(self, feed, base_url, date_from, date_to, token, policy, session, sleep, log):
        self.feed = feed
        self.token = token
        self.policy = policy
        self.session = session
        self.sleep = sleep
        self.log = log
        self.window = f"{date_from.isoformat()}..{date_to.isoformat()}"
        self.endpoint = f"{base_url.rstrip('/')}/{RESOURCE_BY_FEED[feed]}"
        self.query = {"from": date_from.isoformat(), "to": date_to.isoformat()}
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def url(self, page: int) -> str:
        return f"{self.endpoint}?{urlencode({**self.query, 'page': page})}"

    def where(self, page: int) -> str:
        return f"{self.feed}: window {self.window}, page {page}"

    def scrub(self, text: str) -> str:
        """Belt and braces: whatever ends up in a message, the token is not in it."""
        return text.replace(self.token, "***") if self.token else text

    def fail(self, cls: type[SourceError], message: str) -> SourceError:
        return cls(self.scrub(message))

    def fetch_page(self, page: int) -> dict:
        """GET one page with retries; returns the decoded JSON object."""
        url = self.url(page)
        shown = _redact_url(url)
        last_reason = "no try made"
        for attempt in range(1, self.policy.max_tries + 1):
            try:
                return self._try_once(page, url, shown)
            except _Transient as exc:
                last_reason = exc.reason
                if attempt == self.policy.max_tries:
                    break
                delay = self.policy.backoff(attempt)
                if exc.retry_after is not None:
                    delay = min(self.policy.max_backoff, exc.retry_after)
                self.log.warning(
                    "%s: try %d/%d failed (%s); retrying in %.2fs",
                    self.where(page),
                    attempt,
                    self.policy.max_tries,
                    self.scrub(exc.reason),
                    delay,
                )
                self.sleep(delay)
        raise self.fail(
            SourceUnavailableError,
            f"{self.where(page)}: gave up after {self.policy.max_tries} tries on {shown}: {last_reason}",
        )

    def _try_once(self, page: int, url: str, shown: str) -> dict:
        try:
            resp = self.session.get(
                url,
                headers=self.headers,
                timeout=(self.policy.connect_timeout, self.policy.read_timeout),
            )
        except _TRANSIENT_EXCEPTIONS as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        except requests.RequestException as exc:
            raise self.fail(SourceError, f"{self.where(page)}: request to {shown} failed: {exc}") from None

        status = resp.status_code
        if status in (401, 403):
            raise self.fail(
                SourceAuthError,
                f"{self.feed}: HTTP {status} from {shown}: check {token_env_var(self.feed)}"
                + ("" if self.token else " (no token was set)"),
            )
        if status == 429 or status >= 500:
            retry_after = None
            if status in _RETRY_AFTER_STATUSES:
                retry_after = _retry_after_seconds(resp.headers.get("Retry-After"))
            raise _Transient(f"HTTP {status} {resp.reason or ''}".rstrip(), retry_after)
        if status != 200:
            raise self.fail(
                SourceError, f"{self.where(page)}: HTTP {status} {resp.reason or ''} from {shown}"
            )

        try:
            body = json.loads(resp.content, parse_constant=_reject_constant)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
            raise _Transient(f"body is not valid JSON ({len(resp.content)} bytes): {exc}") from None
        if not isinstance(body, dict):
            raise self.fail(
                SourceUnavailableError,
                f"{self.where(page)}: answer is a JSON {type(body).__name__}, not an object",
            )
        return body

    def pull(self) -> tuple[list, int]:
        items: list = []
        previous: set[str] = set()
        page, total = 1, 1
        while page <= total:
            body = self.fetch_page(page)
            page_items = body.get("items")
            if not isinstance(page_items, list):
                raise self.fail(
                    SourceUnavailableError,
                    f"{self.where(page)}: 'items' is {'missing' if page_items is None else 'not a list'}",
                )
            reported_page, reported_pages = body.get("page"), body.get("pages")
            if type(reported_page) is not int or reported_page != page:
                raise self.fail(
                    SourceUnavailableError, f"{self.where(page)}: server answered page {reported_page!r}"
                )
            if type(reported_pages) is not int or reported_pages < 0:
                raise self.fail(
                    SourceUnavailableError, f"{self.where(page)}: 'pages' is {reported_pages!r}, not a count"
                )
            if page == 1:
                total = max(1, reported_pages)
            elif max(1, reported_pages) != total:
                # The data changed under us between pages: the pages no longer add up to one export.
                raise self.fail(
                    SourceUnavailableError,
                    f"{self.where(page)}: paging changed during the pull "
                    f"(page 1 said {total} pages, page {page} says {reported_pages})",
                )
            # Offset paging over data that changes during the pull repeats or skips rows: a page that
            # carries rows of the previous one, or an empty page of several, means the pages no longer
            # add up to one export (fault drill 2). Fail naming the page, never archive it partly.
            if total > 1 and not page_items:
                raise self.fail(
                    SourceUnavailableError,
                    f"{self.where(page)}: page is empty though the window has {total} pages "
                    "(the data changed during the pull)",
                )
            seen = {json.dumps(i, sort_keys=True) for i in page_items}
            repeated = len(seen & previous)
            if repeated:
                raise self.fail(
                    SourceUnavailableError,
                    f"{self.where(page)}: page repeats {repeated} item(s) of page {page - 1} "
                    "(the data changed during the pull)",
                )
            previous = seen
            items.extend(page_items)
            self.log.info("%s %s: page %d/%d, %d items", self.feed, self.window, page, total, len(page_items))
            page += 1
        return items, total


def pull_feed(
    feed: str,
    base_url: str,
    *,
    date_from: date,
    date_to: date,
    token: str | None = None,
    policy: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen dataclass, safe as a default
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    log: logging.Logger | None = None,
) -> PulledExport:
    """Pull every page of one feed window and return it as one canonical JSON export.

    Raises SourceAuthError on 401/403, SourceUnavailableError when retries run out or the answer is
    malformed or inconsistently paged, SourceError for other client errors. `sleep` is injectable so
    tests (and callers with their own scheduling) control the backoff.
    """
    if feed not in RESOURCE_BY_FEED:
        raise ValueError(f"{feed}: unknown feed (expected one of {', '.join(RESOURCE_BY_FEED)})")
    if date_from > date_to:
        raise ValueError(f"{feed}: window {date_from}..{date_to} ends before it starts")
    if urlsplit(base_url).scheme not in ("http", "https"):
        raise ValueError(f"{feed}: base URL {_redact_url(base_url)!r} is not http(s)")
    if policy.max_tries < 1:
        raise ValueError(f"{feed}: RetryPolicy.max_tries must be at least 1")

    own_session = session is None
    active = requests.Session() if own_session else session
    try:
        puller = _Puller(
            feed,
            base_url,
            date_from,
            date_to,
            token,
            policy,
            active,
            sleep,
            log or logging.getLogger(__name__),
        )
        items, pages = puller.pull()
    finally:
        if own_session:
            active.close()

    try:
        content = json.dumps({"items": items}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate escape (\ud800) cannot be stored as UTF-8
        raise SourceUnavailableError(
            f"{feed}: window {puller.window}: items hold invalid text: {exc}"
        ) from None
    return PulledExport(
        feed=feed,
        name=f"{feed}_{date_from.isoformat()}_{date_to.isoformat()}.json",
        content=content,
        origin_uri=_redact_url(puller.url(1)),
        pages=pages,
    )

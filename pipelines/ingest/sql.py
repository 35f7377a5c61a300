"""SQL expression builders shared by the feeds' validation queries.

Each builder takes a SQL expression over text (the cell exactly as sent) and returns a SQL
expression; parsing is done by DuckDB over the whole export at once, never row by row in Python.
"""

from __future__ import annotations

_INT = r"\+?[0-9]+(\.0*)?"
_NEG = r"-\s*[0-9]+(\.[0-9]*)?"
_DEC = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_TS = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?\s*(Z|[+-][0-9]{2}:?[0-9]{2})?"
)


def txt(col: str) -> str:
    """Trimmed text, NULL when blank."""
    return f"nullif(trim({col}), '')"


def _digits_only(t: str) -> str:
    """True for a non-empty string of ASCII digits: the common case, decided by one simple pattern
    (the checks run tens of millions of times at province scale; ltrim with a character set is
    slower than this regex)."""
    return f"regexp_full_match({t}, '[0-9]+')"


def count_value(col: str, *, blank_is_zero: bool = True) -> str:
    """A non-negative integer count; an XLSX/CSV `4.0` is 4; NULL when it is not one."""
    t = txt(col)
    blank = "0" if blank_is_zero else "NULL"
    return (
        f"(CASE WHEN {t} IS NULL THEN {blank} WHEN {_digits_only(t)} THEN TRY_CAST({t} AS BIGINT) "
        f"WHEN regexp_full_match({t}, '{_INT}') "
        f"THEN TRY_CAST(split_part(ltrim({t}, '+'), '.', 1) AS BIGINT) END)"
    )


def count_problem(col: str, label: str) -> str:
    """NULL when the count is fine, else a short phrase for the quarantine reason."""
    t = txt(col)
    return (
        f"(CASE WHEN {t} IS NULL THEN NULL "
        f"WHEN {_digits_only(t)} THEN "
        f"(CASE WHEN TRY_CAST({t} AS BIGINT) IS NULL THEN 'count {label} too large' END) "
        f"WHEN regexp_full_match({t}, '{_NEG}') THEN 'negative count {label}=' || {t} "
        f"WHEN NOT regexp_full_match({t}, '{_INT}') THEN 'count {label} is not a non-negative integer: ' || {t} "
        f"WHEN TRY_CAST(split_part(ltrim({t}, '+'), '.', 1) AS BIGINT) IS NULL THEN 'count {label} too large' END)"
    )


def decimal_value(col: str) -> str:
    t = txt(col)
    norm = f"(CASE WHEN regexp_full_match({t}, '[0-9]+,[0-9]+') THEN replace({t}, ',', '.') ELSE {t} END)"
    return f"(CASE WHEN regexp_full_match({norm}, '{_DEC}') THEN TRY_CAST({norm} AS DOUBLE) END)"


def local_timestamp(col: str) -> str:
    """ISO date or timestamp as local time (Asia/Ho_Chi_Minh, UTC+7): without an offset it is local,
    with one (`Z`, `+07:00`, `-0500`) it is converted."""
    t = f"trim({col})"
    base = (
        f"TRY_CAST(replace(regexp_extract({t}, '^([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}([T ][0-9]{{2}}:[0-9]{{2}}"
        f"(:[0-9]{{2}}(\\.[0-9]+)?)?)?)', 1), 'T', ' ') AS TIMESTAMP)"
    )
    off = f"regexp_extract({t}, '(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$', 1)"
    off_minutes = (
        f"(CASE WHEN {off} = '' THEN NULL WHEN {off} = 'Z' THEN 0 ELSE "
        f"(CASE WHEN left({off}, 1) = '-' THEN -1 ELSE 1 END) * "
        f"(CAST(substr({off}, 2, 2) AS INTEGER) * 60 + CAST(right(replace({off}, ':', ''), 2) AS INTEGER)) END)"
    )
    # the common form `YYYY-MM-DD[T ]HH:MM:SS` (local time): one simple pattern, then a cast
    plain = f"regexp_full_match({t}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[T ][0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}')"
    return (
        f"(CASE WHEN {plain} THEN TRY_CAST({t} AS TIMESTAMP) "
        f"WHEN regexp_full_match({t}, '{_TS}') THEN "
        f"(CASE WHEN {off_minutes} IS NULL THEN {base} "
        f"ELSE {base} + to_minutes(CAST(420 - {off_minutes} AS BIGINT)) END) END)"
    )


def register_date(col: str) -> str:
    """Register dates: ISO `YYYY-MM-DD` (dd/mm/yyyy accepted too, as units type them)."""
    t = txt(col)
    return (
        f"(CASE WHEN {t} IS NULL THEN NULL "
        f"WHEN regexp_full_match({t}, '[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}') "
        f"THEN TRY_CAST(strptime({t}, '%d/%m/%Y') AS DATE) "
        f"ELSE TRY_CAST(left({t}, 10) AS DATE) END)"
    )


def month_text(col: str) -> str:
    """`YYYY-MM` when well formed, else NULL."""
    t = txt(col)
    return f"(CASE WHEN regexp_full_match({t}, '[0-9]{{4}}-(0[1-9]|1[0-2])') THEN {t} END)"


def valid_during(alias: str, start: str, end: str) -> str:
    """A register row (units or procedures) valid on at least one day of [start, end] (inclusive;
    a blank start means always valid, a blank end still valid)."""
    return (
        f"(({alias}.hieu_luc_tu IS NULL OR {alias}.hieu_luc_tu <= {end}) "
        f"AND ({alias}.hieu_luc_den IS NULL OR {alias}.hieu_luc_den >= {start}))"
    )


def reason_columns(checks: list[tuple[str, str, str]]) -> str:
    """`reason_code` and `reason` columns from ordered (code, condition, reason-expression) checks:
    the first check that holds names the row's quarantine reason."""
    codes = " ".join(f"WHEN {cond} THEN '{code}'" for code, cond, _ in checks)
    reasons = " ".join(f"WHEN {cond} THEN {reason}" for _, cond, reason in checks)
    return f"CASE {codes} END AS reason_code, CASE {reasons} END AS reason"

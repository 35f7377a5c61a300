-- reporting_completeness: 0 ≤ on_time ≤ received ≤ expected, and completeness and timeliness are
-- fractions 0–1, null only when nothing was expected (kpis.md, Reporting).
-- Severity warn: the gate is what blocks the ranking (see the _marts.yml header).
{{ config(severity='warn') }}

select
    year,
    unit_code,
    feed,
    expected,
    received,
    on_time,
    completeness,
    timeliness
from {{ ref('reporting_completeness') }}
where
    on_time < 0
    or on_time > received
    or received > expected
    or completeness < 0
    or completeness > 1
    or timeliness < 0
    or timeliness > 1
    or (expected > 0 and (completeness is null or timeliness is null))

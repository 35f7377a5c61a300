-- reporting_gaps: severity follows the gap type (quality.md, Gap types): `error` for invalid and
-- unknown_unit, `warning` for every other type.
{{ config(severity='error') }}

select
    feed,
    unit_code,
    period,
    gap_type,
    severity
from {{ ref('reporting_gaps') }}
where severity != case when gap_type in ('invalid', 'unknown_unit') then 'error' else 'warning' end

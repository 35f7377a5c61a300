-- Every reporting gap of quality.md: one row per (feed, unit_code, period, gap_type), with a detail in
-- words a unit's clerk understands (Vietnamese). Errors block nothing by themselves; the ranking gate
-- (ranking_gate) decides what blocks.
with gaps as (
    select * from {{ ref('int_gaps__reporting') }}
    union all
    select * from {{ ref('int_gaps__quarantine') }}
    union all
    select * from {{ ref('int_gaps__consistency') }}
    union all
    select * from {{ ref('int_gaps__signals') }}
)

select
    g.feed,
    g.unit_code,
    g.period,
    g.gap_type,
    case when g.gap_type in ('invalid', 'unknown_unit') then 'error' else 'warning' end as severity,
    g.detail,
    try_cast(left(g.period, 4) as integer) as year,
    u.unit_name,
    u.ranking_group
from gaps as g
left join {{ ref('stg_registers__units') }} as u on g.unit_code = u.unit_code

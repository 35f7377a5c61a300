-- Payment transactions per unit-month: successful ones, successful online ones, and all of them;
-- and the loaded transactions the ranking gate's integrity check counts (quality.md): a unit or
-- procedure code not in the registers, an amount not above 0. A transaction id cannot occur twice
-- here: ingestion quarantines every copy of an id repeated inside an export, and later_export_wins
-- keeps one export's row per id. The transactions (15 M at province scale) are read once, here, in
-- one pass, and never written out row by row; they are grouped by the year and month numbers, and
-- the period text is made once per group (formatting it for every transaction cost most of the pass).
select
    t.unit_code,
    printf('%04d-%02d', t.year, t.month) as period,
    t.year,
    count(*) filter (where t.is_successful) as successful,
    count(*) filter (where t.is_successful and t.is_online) as successful_online,
    count(*) as transactions,
    count(*) filter (
        where
        t.unit_code not in (select u.unit_code from {{ ref('stg_registers__units') }} as u)
        or t.procedure_code not in (select p.procedure_code from {{ ref('stg_registers__procedures') }} as p)
        or t.amount_vnd <= 0
    ) as integrity_problems
from {{ ref('stg_payments__transactions') }} as t
group by t.unit_code, t.year, t.month

-- Payment transactions per unit-month: successful ones, successful online ones, and all of them;
-- and the loaded transactions the ranking gate's integrity check counts (quality.md): an id twice, a
-- unit or procedure code not in the registers, an amount not above 0. The transactions (15 M at
-- province scale) are read once, here, and never written out row by row.
with transactions as materialized (
    select
        transaction_id,
        unit_code,
        procedure_code,
        period,
        year,
        amount_vnd,
        is_successful,
        is_online
    from {{ ref('stg_payments__transactions') }}
),

repeated_ids as (
    select transaction_id
    from transactions
    group by transaction_id
    having count(*) > 1
)

select
    t.unit_code,
    t.period,
    t.year,
    count(*) filter (where t.is_successful) as successful,
    count(*) filter (where t.is_successful and t.is_online) as successful_online,
    count(*) as transactions,
    count(*) filter (
        where
        r.transaction_id is not null
        or t.unit_code not in (select u.unit_code from {{ ref('stg_registers__units') }} as u)
        or t.procedure_code not in (select p.procedure_code from {{ ref('stg_registers__procedures') }} as p)
        or t.amount_vnd <= 0
    ) as integrity_problems
from transactions as t
left join repeated_ids as r on t.transaction_id = r.transaction_id
group by t.unit_code, t.period, t.year

-- Fee-bearing procedures received at a unit in a year (online_payment_coverage, unit grain): some
-- month's winning machine rows have tiep_nhan_* summing to at least 1 for the procedure.
with received as (
    select
        unit_code,
        year(month_start) as year,
        procedure_code
    from {{ ref('int_dossiers__winning_rows') }}
    where
        source_format = 'machine'
        -- only fee-bearing procedures are kept below: leave the others out before grouping
        and procedure_code in (select procedure_code from {{ ref('stg_registers__procedures') }} where is_fee_bearing)
    group by unit_code, year(month_start), period, procedure_code
    having sum(received_online + received_in_person + received_postal) >= 1
)

select distinct
    r.unit_code,
    r.year,
    r.procedure_code,
    p.online_payment_on
from received as r
inner join {{ ref('stg_registers__procedures') }} as p on r.procedure_code = p.procedure_code
where p.is_fee_bearing

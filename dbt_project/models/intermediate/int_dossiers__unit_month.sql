-- Dossier facts per unit-month from the winning rows (only months that have loaded rows).
select
    unit_code,
    period,
    month_start,
    year(month_start) as year,
    count(*) as data_rows,
    sum(opening_pending) as opening_pending,
    sum(received_online) as received_online,
    sum(received_in_person) as received_in_person,
    sum(received_postal) as received_postal,
    sum(received_online + received_in_person + received_postal) as received_total,
    sum(resolved_early) as resolved_early,
    sum(resolved_on_time) as resolved_on_time,
    sum(resolved_late) as resolved_late,
    sum(pending_in_time) as pending_in_time,
    sum(pending_overdue) as pending_overdue,
    bool_or(source_format = 'human') as from_human_report
from {{ ref('int_dossiers__winning_rows') }}
group by unit_code, period, month_start

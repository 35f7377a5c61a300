-- Per unit-month that any export carried: the winning version, whether the report counts as
-- received (winner has loaded rows, none quarantined, none failing the balance identity) and its
-- export date (the earliest date among all versions; a human report without a date line has none).
select
    unit_code,
    period,
    month_start,
    count(*) as versions,
    max(case when version_rank = 1 then export_id end) as winning_export_id,
    max(case when version_rank = 1 then file_name end) as winning_file_name,
    max(case when version_rank = 1 then source_format end) as winning_format,
    coalesce(bool_or(
        version_rank = 1 and loaded_rows > 0 and quarantined_rows = 0 and balance_failures = 0
    ), false) as is_received,
    bool_or(version_rank = 1 and balance_failures > 0) as has_balance_failure,
    min(cast(version_ts as date)) as export_date,
    string_agg(file_name, ', ' order by version_rank) as version_files
from {{ ref('int_dossiers__versions') }}
group by unit_code, period, month_start

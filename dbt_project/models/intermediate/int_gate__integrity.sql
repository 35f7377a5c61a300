-- Gate check 1 (quality.md): the loaded data of a year has no duplicate key, no unit or procedure
-- code missing from the registers and no negative count, per year and problem (0 when none). Its own
-- model so that dbt runs it beside the KPI models, as soon as the rows are there: it reads the 5.7 M
-- winning dossier rows, and as a part of ranking_gate it ran alone at the end of the build (~1.4 s).
with units as (select unit_code from {{ ref('stg_registers__units') }}),

procedures as (select procedure_code from {{ ref('stg_registers__procedures') }}),

dossier_rows as (
    select * from {{ ref('int_dossiers__winning_rows') }}
),

-- the other dossier checks in one pass over the rows (years without a violation count 0)
dossier_checks as (
    select
        year(month_start) as year,
        count(*) filter (where unit_code not in (select unit_code from units)) as unknown_units,
        count(*) filter (
            where procedure_code is not null and procedure_code not in (select procedure_code from procedures)
        ) as unknown_procedures,
        count(*) filter (
            where
            least(
                opening_pending, received_online, received_in_person, received_postal, resolved_early,
                resolved_on_time, resolved_late, pending_in_time, pending_overdue
            ) < 0
            or (source_format = 'machine' and returned_withdrawn < 0)
        ) as negative_counts
    from dossier_rows
    group by year(month_start)
),

integrity as (
    select
        year(month_start) as year,
        'dossiers: duplicate unit × procedure × month' as problem,
        count(*) as violations
    from (
        select month_start
        from dossier_rows
        -- a unit × procedure × month key twice: only rows whose key hash occurs twice are grouped
        where
            hash(unit_code, period, procedure_code, month_start)
            in {{ hashes_seen_twice('dossier_rows', 'unit_code, period, procedure_code, month_start') }}
        group by unit_code, period, procedure_code, month_start
        having count(*) > 1
    ) as duplicated
    group by year(month_start)
    union all
    select
        year,
        'dossiers: unit code not in the register',
        unknown_units
    from dossier_checks
    union all
    select
        year,
        'dossiers: procedure code not in the catalogue',
        unknown_procedures
    from dossier_checks
    union all
    select
        year,
        'dossiers: negative count',
        negative_counts
    from dossier_checks
    union all
    select
        year,
        'payments: duplicate, unknown code or amount ≤ 0',
        sum(integrity_problems)
    from {{ ref('int_payments__unit_month') }}
    group by year
    union all
    select
        year,
        'surveys: duplicate or unknown unit',
        count(*)
    from (
        select
            year,
            unit_code,
            count(*) over (partition by response_id) as n
        from {{ ref('stg_surveys__responses') }}
    )
    where n > 1 or unit_code not in (select unit_code from units)
    group by year
    union all
    select
        year,
        'self_report: duplicate, unknown unit or negative number',
        count(*)
    from (
        select
            year,
            unit_code,
            numerator,
            denominator,
            count(*) over (partition by year, unit_code, kpi_code) as n
        from {{ ref('stg_self_report__indicators') }}
    )
    where n > 1 or unit_code not in (select unit_code from units) or least(numerator, denominator) < 0
    group by year
)

select
    year,
    problem,
    violations
from integrity

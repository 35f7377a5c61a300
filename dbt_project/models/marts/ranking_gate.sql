-- The gate before the ranking (quality.md): four checks per programme year. A year is ranked when it
-- is over and checks 1, 3 and 4 pass, and check 2 passes or the year is in PAR_FINAL_YEARS.
with years as (
    select
        y as year,
        {{ month_deadline('make_date(y, 12, 1)') }} < {{ as_of() }} as year_is_over,
        list_contains(
            list_transform(string_split('{{ var("final_years") }}', ','), x -> try_cast(trim(x) as integer)),
            y
        ) as is_final_year
    from {{ programme_years() }} as py
),

units as (select unit_code from {{ ref('stg_registers__units') }}),

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
),

completeness as (
    select
        year,
        value
    from {{ ref('kpi_province_year') }}
    where kpi_code = 'reporting_completeness'
),

coverage as (
    select
        c.year,
        count(*) filter (where k.n is null) as missing_units,
        string_agg(c.unit_code, ', ' order by c.unit_code) filter (where k.n is null) as missing_list
    from {{ ref('int_calendar__unit_years') }} as c
    left join (
        select
            year,
            unit_code,
            count(*) as n
        from {{ ref('kpi_unit_year') }}
        group by year, unit_code
    ) as k on c.year = k.year and c.unit_code = k.unit_code
    where c.whole_year and c.ranking_group in ('so_nganh', 'nganh_doc', 'ubnd_huyen', 'ubnd_xa')
    group by c.year
),

bounds as (
    select
        year,
        count(*) as violations
    from (
        select
            year,
            kpi_code,
            numerator,
            denominator,
            value
        from {{ ref('kpi_unit_year') }}
        union all
        select
            year,
            kpi_code,
            numerator,
            denominator,
            value
        from {{ ref('kpi_province_year') }}
        where kpi_code not like '%national_rank'
    )
    where
        value < 0 or value > 1 or numerator < 0 or denominator < numerator
    group by year
),

checks as (
    select
        y.year,
        1 as check_id,
        'integrity' as check_name,
        coalesce(sum(i.violations), 0) = 0 as passed,
        coalesce(
            string_agg(i.problem || ': ' || i.violations, '; ' order by i.problem),
            'no duplicate key, unknown code or negative count in the loaded data'
        ) as detail
    from years as y
    left join integrity as i on y.year = i.year and i.violations > 0
    group by y.year
    union all
    select
        y.year,
        2,
        'reporting_completeness',
        coalesce(c.value >= {{ var('completeness_threshold') }}, false),
        'province reporting completeness '
        || coalesce(cast(round(c.value * 100, 2) as varchar) || ' %', 'unknown (no expected reports)')
        || ', threshold ' || round({{ var('completeness_threshold') }} * 100, 2) || ' %'
    from years as y
    left join completeness as c on y.year = c.year
    union all
    select
        y.year,
        3,
        'unit_coverage',
        coalesce(v.missing_units, 0) = 0,
        case
            when coalesce(v.missing_units, 0) = 0 then 'every whole-year unit of a ranking group has KPI rows'
            else v.missing_units || ' whole-year units have no KPI rows: ' || v.missing_list
        end
    from years as y
    left join coverage as v on y.year = v.year
    union all
    select
        y.year,
        4,
        'kpi_bounds',
        coalesce(b.violations, 0) = 0,
        case
            when coalesce(b.violations, 0) = 0 then 'every KPI value within [0, 1] and 0 ≤ numerator ≤ denominator'
            else b.violations || ' KPI rows outside [0, 1] or with numerator > denominator'
        end
    from years as y
    left join bounds as b on y.year = b.year
)

select
    c.year,
    c.check_id,
    c.check_name,
    c.passed,
    c.detail,
    y.year_is_over,
    y.is_final_year,
    bool_and(c.passed or (c.check_id = 2 and y.is_final_year)) over (partition by c.year)
    and y.year_is_over as year_is_ranked
from checks as c
inner join years as y on c.year = y.year

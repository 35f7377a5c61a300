-- The annual PAR ranking (ranking.md), for the years the gate lets through (ranking_gate). Built
-- with the KPIs; the Dagster asset marts/par_ranking (pipelines/defs/ranking.py) publishes it as
-- marts.par_ranking once the blocking gate check has passed.
-- Points per component = max × min(1, value / full points); "no data" earns 0, while thanh_toan is
-- "not applicable" (out of the maximum) for a unit with no fee-bearing dossier and no transaction.
{% set groups = "('so_nganh', 'nganh_doc', 'ubnd_huyen', 'ubnd_xa')" %}
with ranked_years as (
    select distinct
        year,
        is_final_year,
        bool_or(check_id = 2 and not passed) over (partition by year) as completeness_below
    from {{ ref('ranking_gate') }}
    where year_is_ranked
),

method as (
    select * from {{ ref('ranking_method') }} where kind = 'component'
),

members as (
    select
        c.year,
        c.unit_code,
        u.unit_name,
        c.ranking_group,
        c.whole_year,
        u.valid_from,
        u.valid_to,
        r.is_final_year and r.completeness_below as ranked_by_override
    from {{ ref('int_calendar__unit_years') }} as c
    inner join ranked_years as r on c.year = r.year
    inner join {{ ref('stg_registers__units') }} as u on c.unit_code = u.unit_code
    where c.ranking_group in {{ groups }}
),

component_kpis as (
    select
        m.year,
        m.unit_code,
        me.code as component,
        me.max_points,
        me.weight,
        k.value,
        case
            when me.full_points_at = 'target' then t.target
            else try_cast(me.full_points_at as double)
        end as full_points_at
    from members as m
    cross join method as me
    left join {{ ref('kpi_unit_year') }} as k
        on m.year = k.year and m.unit_code = k.unit_code and me.kpi_code = k.kpi_code
    left join {{ ref('kpi_province_year') }} as t on m.year = t.year and me.kpi_code = t.kpi_code
),

components as (
    select
        year,
        unit_code,
        component,
        any_value(max_points) as max_points,
        case when bool_and(value is not null) then sum(weight * value) end as value,
        -- weighted full-points threshold (1.0 for bao_cao's two halves)
        sum(weight * full_points_at) as full_points_at
    from component_kpis
    group by year, unit_code, component
),

payment_activity as (
    select
        m.year,
        m.unit_code,
        coalesce(cov.denominator, 0) as fee_procedures_received,
        coalesce(pay.transactions, 0) as transactions
    from members as m
    left join {{ ref('kpi_unit_year') }} as cov
        on m.year = cov.year and m.unit_code = cov.unit_code and cov.kpi_code = 'online_payment_coverage'
    left join (
        select
            year,
            unit_code,
            sum(transactions) as transactions
        from {{ ref('int_payments__unit_month') }}
        group by year, unit_code
    ) as pay on m.year = pay.year and m.unit_code = pay.unit_code
),

points as (
    select
        c.*,
        not(c.component = 'thanh_toan' and p.fee_procedures_received = 0 and p.transactions = 0) as applicable,
        case
            when c.value is null then 0
            else c.max_points * least(1, c.value / c.full_points_at)
        end as earned
    from components as c
    inner join payment_activity as p on c.year = p.year and c.unit_code = p.unit_code
),

scored as (
    select
        m.year,
        m.ranking_group,
        m.unit_code,
        m.unit_name,
        m.whole_year,
        m.valid_from,
        m.valid_to,
        m.ranked_by_override,
        sum(p.earned) filter (where p.applicable) as total_points,
        sum(p.max_points) filter (where p.applicable) as applicable_max,
        max(case when p.component = 'tien_do' then p.earned end) as points_tien_do,
        max(case when p.component = 'truc_tuyen' then p.earned end) as points_truc_tuyen,
        max(case when p.component = 'thanh_toan' and p.applicable then p.earned end) as points_thanh_toan,
        max(case when p.component = 'hai_long' then p.earned end) as points_hai_long,
        max(case when p.component = 'bao_cao' then p.earned end) as points_bao_cao,
        string_agg(p.component, ', ' order by p.component) filter (
            where p.applicable and p.value is null
        ) as no_data_components,
        bool_or(p.component = 'thanh_toan' and not p.applicable) as payment_not_applicable
    from members as m
    inner join points as p on m.year = p.year and m.unit_code = p.unit_code
    group by all
),

rounded as (
    select
        *,
        -- half away from zero on the decimal value (float noise removed first)
        cast(round(cast(100 * total_points / applicable_max as decimal(18, 9)), 2) as double) as score
    from scored
),

ranked as (
    select
        r.*,
        case
            when r.whole_year
                then rank() over (partition by r.year, r.ranking_group, r.whole_year order by r.score desc)
        end as rank,
        case
            when r.whole_year then (
                select g.code
                from {{ ref('ranking_method') }} as g
                where g.kind = 'grade' and r.score >= g.min_score
                order by g.min_score desc
                limit 1
            )
        end as grade
    from rounded as r
)

select
    cur.year,
    cur.ranking_group,
    cur.unit_code,
    cur.unit_name,
    cur.score,
    cur.rank,
    cur.grade,
    cur.points_tien_do,
    cur.points_truc_tuyen,
    cur.points_thanh_toan,
    cur.points_hai_long,
    cur.points_bao_cao,
    cur.applicable_max,
    prev.rank - cur.rank as rank_change,
    -- the difference of the rounded scores, itself exact to 2 decimals
    cast(round(cast(cur.score - prev.score as decimal(18, 9)), 2) as double) as score_change,
    nullif(concat_ws(
        '; ',
        case
            when not cur.whole_year
                then
                    'Không xếp hạng: đơn vị không tồn tại đủ cả năm ' || cur.year || ' (hiệu lực '
                    || coalesce(strftime(cur.valid_from, '%d/%m/%Y'), '…') || ' – '
                    || coalesce(strftime(cur.valid_to, '%d/%m/%Y'), '…') || ')'
        end,
        case when cur.no_data_components is not null then 'Không có số liệu: ' || cur.no_data_components end,
        case
            when cur.payment_not_applicable
                then 'thanh_toan không áp dụng (không có hồ sơ TTHC có nghĩa vụ tài chính và không có giao dịch)'
        end,
        case
            when cur.ranked_by_override
                then 'Năm ' || cur.year || ' được xếp hạng theo PAR_FINAL_YEARS dù tỷ lệ báo cáo đầy đủ dưới ngưỡng'
        end
    ), '') as note
from ranked as cur
left join ranked as prev
    on
        cur.unit_code = prev.unit_code
        and cur.ranking_group = prev.ranking_group
        and cur.year = prev.year + 1
        and prev.rank is not null

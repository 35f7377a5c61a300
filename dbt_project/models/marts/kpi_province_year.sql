-- Every KPI for every programme year against its milestone target and linear trajectory (kpis.md,
-- Targets, milestones and trajectories). Comparisons with targets are exact: fractions are compared
-- as numerator·100 against target%·denominator in decimal arithmetic (self-reported amounts may be
-- decimals: 0.29 / 2.9 is exactly 10 %), never as rounded percentages. `on_track` likewise compares
-- the value with the trajectory cross-multiplied, so a value exactly on
-- the line is on track; expected_on_trajectory itself is shown as a double.
with years as (
    select y as year from {{ programme_years() }} as py
),

kpis as (
    select
        d.kpi_code,
        d.measure,
        t.comparator,
        t.measure as target_measure,
        t.target_2025,
        t.target_2030,
        t.target_id is not null as has_target
    from {{ ref('kpi_definitions') }} as d
    left join {{ ref('program_targets') }} as t on d.kpi_code = t.kpi_code
),

vals as (
    select
        y.year,
        k.*,
        -- no data is 0/0 (value null) for ratios; a rank without data stays null
        case when k.measure = 'rank' then c.numerator else coalesce(c.numerator, 0) end as numerator,
        case when k.measure = 'rank' then null else coalesce(c.denominator, 0) end as denominator,
        case
            when k.measure = 'rank' then c.numerator
            else {{ ratio('c.numerator', 'c.denominator') }}
        end as value
    from years as y
    cross join kpis as k
    left join {{ ref('int_kpi__province_year_components') }} as c
        on y.year = c.year and k.kpi_code = c.kpi_code
),

baseline as (
    select
        kpi_code,
        arg_min(year, year) filter (where value is not null) as y0,
        arg_min(value, year) filter (where value is not null) as b,
        arg_min(numerator, year) filter (where value is not null) as n0,
        arg_min(denominator, year) filter (where value is not null) as d0,
        max(case when year = 2025 then value end) as value_2025
    from vals
    group by kpi_code
),

targets as (
    select
        v.*,
        bl.y0,
        bl.b,
        bl.n0,
        bl.d0,
        bl.value_2025,
        case when v.has_target then case when v.year <= 2025 then 2025 else 2030 end end as target_year,
        case when v.year <= 2025 then v.target_2025 else v.target_2030 end as target_as_written,
        -- numeric milestones, as fractions for percent targets and ranks for rank targets
        try_cast(v.target_2025 as double)
        / case when v.target_measure = 'percent' then 100 else 1 end as t2025,
        try_cast(v.target_2030 as double)
        / case when v.target_measure = 'percent' then 100 else 1 end as t2030,
        -- the same amounts as decimals, for the exact on_track (a product of three keeps 20 digits)
        cast(v.numerator as decimal(38, 6)) as n_exact,
        cast(v.denominator as decimal(38, 6)) as d_exact,
        cast(bl.n0 as decimal(38, 6)) as n0_exact,
        cast(bl.d0 as decimal(38, 6)) as d0_exact,
        try_cast(v.target_2025 as decimal(38, 6)) as t2025_exact,
        try_cast(v.target_2030 as decimal(38, 6)) as t2030_exact
    from vals as v
    left join baseline as bl on v.kpi_code = bl.kpi_code
),

judged as (
    select
        *,
        case
            when target_as_written = 'improve_vs_2025' then value_2025
            when target_measure = 'percent' then try_cast(target_as_written as double) / 100
            else try_cast(target_as_written as double)
        end as target,
        case
            when y0 is null or year <= y0 or year > 2030 then null
            when year <= 2025
                then
                    case when t2025 is not null then b + (t2025 - b) * (year - y0) / (2025 - y0) end
            when t2025 is not null and t2030 is not null
                then t2025 + (t2030 - t2025) * (year - 2025) / 5
        end as expected_on_trajectory
    from targets
)

select
    year,
    kpi_code,
    cast(numerator as double) as numerator,
    cast(denominator as double) as denominator,
    value,
    target,
    target_year,
    case
        when target is null or value is null then null
        when target_as_written = 'improve_vs_2025' then value < target
        when comparator = 'top_n' then value <= target
        when comparator = '>'
            then {{ exact('numerator') }} * 100 > {{ exact('target_as_written') }} * {{ exact('denominator') }}
        when comparator = '>='
            then {{ exact('numerator') }} * 100 >= {{ exact('target_as_written') }} * {{ exact('denominator') }}
    end as met,
    expected_on_trajectory,
    case
        when value is null or expected_on_trajectory is null then null
        -- Exact, cross-multiplied (y₀ the first year with a value n₀/d₀ — for a rank, value = numerator,
        -- so b = n₀; K = 2025 − y₀, k = year − y₀; T in percent for ratios):
        --   ratios ≤ 2025: n/d ≥ n₀/d₀ + (T₂₀₂₅/100 − n₀/d₀)·k/K ⇔ 100·K·n·d₀ ≥ d·(100·(K − k)·n₀ + k·T₂₀₂₅·d₀)
        --   ratios ≥ 2026: n/d ≥ (T₂₀₂₅ + (T₂₀₃₀ − T₂₀₂₅)·(year − 2025)/5)/100
        --                  ⇔ 500·n ≥ d·(5·T₂₀₂₅ + (T₂₀₃₀ − T₂₀₂₅)·(year − 2025))
        --   ranks (up to 2025): r ≤ n₀ + (T₂₀₂₅ − n₀)·k/K ⇔ K·r ≤ (K − k)·n₀ + k·T₂₀₂₅
        -- Only should the products overflow 38 digits do the doubles decide.
        else coalesce(
            try(
                case
                    when measure = 'rank'
                        then (2025 - y0) * n_exact <= (2025 - year) * n0_exact + (year - y0) * t2025_exact
                    when year <= 2025
                        then
                            100 * (2025 - y0) * n_exact * d0_exact
                            >= d_exact * (100 * (2025 - year) * n0_exact + (year - y0) * t2025_exact * d0_exact)
                    else 500 * n_exact >= d_exact * (5 * t2025_exact + (t2030_exact - t2025_exact) * (year - 2025))
                end
            ),
            case
                when measure = 'rank' then value <= expected_on_trajectory
                else value >= expected_on_trajectory
            end
        )
    end as on_track
from judged

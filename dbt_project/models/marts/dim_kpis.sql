-- Every KPI with its names, formula in words, targets (fractions; ranks for rank KPIs) and the
-- section of the programme's text it comes from.
select
    k.kpi_code,
    t.target_id,
    k.name_vi,
    k.name_en,
    k.formula_en,
    k.grains,
    k.measure,
    k.higher_is_better = 'true' as higher_is_better,
    t.comparator,
    case
        when t.measure = 'percent' then try_cast(t.target_2025 as double) / 100
        else try_cast(t.target_2025 as double)
    end as target_2025,
    case
        when t.measure = 'percent' then try_cast(t.target_2030 as double) / 100
        else try_cast(t.target_2030 as double)
    end as target_2030,
    t.target_2030 as target_2030_as_written,
    t.source_kind,
    t.seed_section
from {{ ref('kpi_definitions') }} as k
left join {{ ref('program_targets') }} as t on k.kpi_code = t.kpi_code

-- Survey answers per unit-year and KPI (kpis.md): answers counted per question answered.
with tagged as (
    select
        unit_code,
        year,
        answers,
        satisfied_answers,
        case survey_type
            when 'sipas' then 'satisfaction_procedures'
            when 'cqhc' then 'satisfaction_admin_agencies'
            when 'y_te' then 'satisfaction_health'
            when 'giao_duc' then 'satisfaction_education'
        end as kpi_code,
        survey_type = 'sipas' and field in ('dat_dai', 'xay_dung', 'dau_tu') as is_land_construction_investment
    from {{ ref('stg_surveys__responses') }}
),

by_kpi as (
    select
        unit_code,
        year,
        kpi_code,
        answers,
        satisfied_answers
    from tagged
    union all
    select
        unit_code,
        year,
        'satisfaction_land_construction_investment',
        answers,
        satisfied_answers
    from tagged
    where is_land_construction_investment
)

select
    unit_code,
    year,
    kpi_code,
    sum(satisfied_answers) as numerator,
    sum(answers) as denominator,
    count(*) as responses
from by_kpi
group by unit_code, year, kpi_code

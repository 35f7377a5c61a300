{#- Dates of kpis.md's Conventions, in one place. -#}

{#- "Now" for the run: the var `as_of` when given (unit tests, runs by hand), else the environment's
    PAR_DBT_AS_OF, which the pipeline sets to its resolved PAR_AS_OF. The nightly run passes the date in
    the environment, not as a var: a var that changes makes dbt parse the whole project again, a changed
    environment variable only the files that use it. -#}
{% macro as_of() -%}
    {%- set value = var("as_of", none) -%}
    {%- if value is none -%}{%- set value = env_var("PAR_DBT_AS_OF") -%}{%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{% macro first_year() -%}
    {{ var("first_year") }}
{%- endmacro %}

{#- A month's reporting deadline: its last day + 10 days. -#}
{% macro month_deadline(month_start) -%}
    (last_day({{ month_start }}) + interval 10 day)::date
{%- endmacro %}

{#- Valid on at least one day of [start, end] (blank start: always; blank end: still valid). -#}
{% macro valid_during(alias, start, end) -%}
    (({{ alias }}.valid_from is null or {{ alias }}.valid_from <= {{ end }})
    and ({{ alias }}.valid_to is null or {{ alias }}.valid_to >= {{ start }}))
{%- endmacro %}

{#- value = numerator / denominator, null when the denominator is 0 (kpis.md). -#}
{% macro ratio(numerator, denominator) -%}
    case when {{ denominator }} is null or {{ denominator }} = 0 then null
        else {{ numerator }}::double / {{ denominator }} end
{%- endmacro %}

{#- The programme's years, 2021 .. the as-of year, as a derived table with one column `y`. -#}
{% macro programme_years() -%}
    (select cast(unnest(range({{ first_year() }}, year({{ as_of() }}) + 1)) as integer) as y)
{%- endmacro %}

{#- A number as an exact decimal (10 places: self-reported amounts), for comparisons with targets. -#}
{% macro exact(expr) -%}
    try_cast({{ expr }} as decimal(38, 10))
{%- endmacro %}

{#-
    `on_track` of kpi_province_year without rounding (kpis.md: comparisons with targets are exact).
    With y₀ the first year with a value (n₀/d₀, or the rank b), K = 2025 − y₀ and k = year − y₀:
    - ratios, year ≤ 2025: n/d ≥ n₀/d₀ + (T₂₀₂₅/100 − n₀/d₀)·k/K
        ⇔ 100·K·n·d₀ ≥ d·(100·(K − k)·n₀ + k·T₂₀₂₅·d₀)        (d, d₀ > 0: both values exist)
    - ratios, 2026 ≤ year ≤ 2030: n/d ≥ (T₂₀₂₅ + (T₂₀₃₀ − T₂₀₂₅)·(year − 2025)/5)/100
        ⇔ 500·n ≥ d·(5·T₂₀₂₅ + (T₂₀₃₀ − T₂₀₂₅)·(year − 2025))
    - ranks (trajectory up to 2025 only): r ≤ b + (T₂₀₂₅ − b)·k/K ⇔ K·r ≤ (K − k)·b + k·T₂₀₂₅
    Amounts as decimal(38, 6): a product of three keeps 20 integer digits.
-#}
{% macro on_trajectory_exact() -%}
    case
        when measure = 'rank'
            then
                (2025 - y0) * cast(value as decimal(38, 6))
                <= (2025 - year) * cast(b as decimal(38, 6))
                + (year - y0) * try_cast(target_2025 as decimal(38, 6))
        when year <= 2025
            then
                100 * (2025 - y0) * cast(numerator as decimal(38, 6)) * cast(d0 as decimal(38, 6))
                >= cast(denominator as decimal(38, 6)) * (
                    100 * (2025 - year) * cast(n0 as decimal(38, 6))
                    + (year - y0) * try_cast(target_2025 as decimal(38, 6)) * cast(d0 as decimal(38, 6))
                )
        else
            500 * cast(numerator as decimal(38, 6))
            >= cast(denominator as decimal(38, 6)) * (
                5 * try_cast(target_2025 as decimal(38, 6))
                + (try_cast(target_2030 as decimal(38, 6)) - try_cast(target_2025 as decimal(38, 6)))
                * (year - 2025)
            )
    end
{%- endmacro %}

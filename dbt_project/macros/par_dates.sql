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

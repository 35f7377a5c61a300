-- Each unit's final successor on today's map (kpis.md, Units that merge): follow ma_don_vi_ke_thua
-- until a unit valid at the as-of date; a unit with no such successor keeps its own code.
with recursive units as (
    select
        unit_code,
        successor_code,
        (valid_from is null or valid_from <= {{ as_of() }})
        and (valid_to is null or valid_to >= {{ as_of() }}) as is_current
    from {{ ref('stg_registers__units') }}
),

chain (origin_code, unit_code, is_current, successor_code, depth) as (
    select
        unit_code as origin_code,
        unit_code,
        is_current,
        successor_code,
        0 as depth
    from units
    union all
    select
        c.origin_code,
        u.unit_code,
        u.is_current,
        u.successor_code,
        c.depth + 1
    from chain as c
    inner join units as u on c.successor_code = u.unit_code
    where not c.is_current and c.depth < 50
),

resolved as (
    select
        origin_code,
        arg_min(unit_code, depth) filter (where is_current) as current_code
    from chain
    group by origin_code
)

select
    origin_code as unit_code,
    coalesce(current_code, origin_code) as current_unit_code
from resolved

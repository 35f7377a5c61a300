-- The unit register as analysts read it, with the final successor on today's map.
select
    u.unit_code,
    u.unit_name,
    u.unit_level,
    u.ranking_group,
    u.parent_code,
    u.valid_from,
    u.valid_to,
    u.successor_code,
    m.current_unit_code,
    u.aliases,
    (u.valid_from is null or u.valid_from <= {{ as_of() }})
    and (u.valid_to is null or u.valid_to >= {{ as_of() }}) as is_current
from {{ ref('stg_registers__units') }} as u
left join {{ ref('int_units__current_map') }} as m on u.unit_code = m.unit_code

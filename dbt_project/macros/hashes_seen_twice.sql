{#-
    The 64-bit hashes of `key` (an expression over `relation`, where `condition` holds) that occur
    more than once, as a subquery of one column `h`. Finding repeated keys among millions of rows by
    sorting their hashes costs about half of grouping the keys themselves; the rows whose key hash is
    here are then grouped by the key, exactly (two keys sharing a hash are told apart there).
-#}
{% macro hashes_seen_twice(relation, key, condition='true') -%}
(
    select h
    from (
        select
            h,
            lag(h) over (order by h) as previous_h
        from (select hash({{ key }}) as h from {{ relation }} where {{ condition }}) as keys
    ) as sorted_keys
    where h = previous_h
)
{%- endmacro %}

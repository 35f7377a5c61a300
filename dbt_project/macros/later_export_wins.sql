{#-
    The loaded rows of `feed` that are their id's latest version (sources.md: "identical rows are one;
    otherwise the later export wins"), as a subquery. Versions are loaded and quarantined rows alike:
    when the latest version of an id was quarantined, the id keeps no row and counts nowhere, as a
    dossier unit-month's data is its winning version's loaded rows only. Exports are ranked in
    "later export wins" order (raw.exports.sort_key) as integers, so the per-id aggregate stays small
    (16 M transactions at province scale). An id is never both loaded and quarantined within one
    export (duplicates inside an export are all quarantined).
-#}
{% macro later_export_wins(feed, id_column) -%}
(
    with export_order as (
        select
            export_id,
            dense_rank() over (order by sort_key, export_id) as export_rank
        from {{ source('raw', 'exports') }}
        where feed = '{{ feed }}'
    ),

    versions as (
        select
            t.{{ id_column }} as version_id,
            o.export_rank
        from {{ source('raw', feed) }} as t
        inner join export_order as o on t.export_id = o.export_id
        union all
        select
            nullif(trim(json_extract_string(q.record, '$.{{ id_column }}')), '') as version_id,
            o.export_rank
        from {{ source('raw', 'quarantine_rows') }} as q
        inner join export_order as o on q.export_id = o.export_id
        where q.feed = '{{ feed }}'
    ),

    contested as (
        -- ids with more than one version (rare): only these need a winner; grouping by a count
        -- keeps the aggregate cheap and the join below small
        select
            version_id,
            max(export_rank) as export_rank
        from versions
        where version_id is not null
        group by version_id
        having count(*) > 1
    )

    select t.*
    from {{ source('raw', feed) }} as t
    inner join export_order as o on t.export_id = o.export_id
    left join contested as c on t.{{ id_column }} = c.version_id
    where c.version_id is null or o.export_rank = c.export_rank
)
{%- endmacro %}

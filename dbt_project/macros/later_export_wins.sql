{#-
    The loaded rows of `feed` that are their id's latest version (sources.md: "identical rows are one;
    otherwise the later export wins"), as a subquery. Versions are loaded and quarantined rows alike:
    when the latest version of an id was quarantined, the id keeps no row and counts nowhere, as a
    dossier unit-month's data is its winning version's loaded rows only. Almost every id has one
    version, so ids are first found by their hashes occurring twice (16 M transactions at province
    scale); only the few with several versions are ranked, in "later export wins" order
    (raw.exports.sort_key), and keep their winning export's row. An id is never both loaded and quarantined within one export
    (duplicates inside an export are all quarantined).
-#}
{% macro later_export_wins(feed, id_column) -%}
(
    with versions as (
        select
            t.{{ id_column }} as version_id,
            t.export_id
        from {{ source('raw', feed) }} as t
        union all
        select
            nullif(trim(json_extract_string(q.record, '$.{{ id_column }}')), '') as version_id,
            q.export_id
        from {{ source('raw', 'quarantine_rows') }} as q
        where q.feed = '{{ feed }}'
    ),

    -- ids with several versions, found through their hashes (macro hashes_seen_twice)
    contested_ids as (
        select version_id
        from versions
        where
            version_id is not null
            and hash(version_id) in {{ hashes_seen_twice('versions', 'version_id', 'version_id is not null') }}
        group by version_id
        having count(*) > 1
    ),

    contested as (
        select
            v.version_id,
            arg_max(v.export_id, o.export_rank) as winning_export_id
        from versions as v
        inner join contested_ids as c on v.version_id = c.version_id
        inner join (
            select
                export_id,
                dense_rank() over (order by sort_key, export_id) as export_rank
            from {{ source('raw', 'exports') }}
            where feed = '{{ feed }}'
        ) as o on v.export_id = o.export_id
        group by v.version_id
    )

    select t.*
    from {{ source('raw', feed) }} as t
    left join contested as c on t.{{ id_column }} = c.version_id
    where c.version_id is null or t.export_id = c.winning_export_id
)
{%- endmacro %}

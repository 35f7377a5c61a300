{#-
    The loaded rows of `feed` that are their id's latest version (sources.md: "identical rows are one;
    otherwise the later export wins"), as a subquery. Versions are loaded and quarantined rows alike:
    when the latest version of an id was quarantined, the id keeps no row and counts nowhere, as a
    dossier unit-month's data is its winning version's loaded rows only. Almost every id has one
    version (16 M transactions at province scale), so the few with several are found cheaply:
    - an id can be in two exports only if the two exports' id ranges (min .. max) overlap, so only
      the ids of exports whose range overlaps another export's are compared (monthly exports whose
      ids carry their month overlap nobody: nothing is compared); exact, as a pre-filter;
    - among those, ids are found by their hashes occurring twice (macro hashes_seen_twice).
    Only the ids with several versions are ranked, in "later export wins" order (raw.exports.sort_key),
    and keep their winning export's row. An id is never both loaded and quarantined within one export
    (duplicates inside an export are all quarantined).
    Rows dated after the as-of date are ignored (kpis.md), so they are no version either: a copy of an
    id re-sent with a later date neither wins nor hides the copy dated before the as-of date. A
    quarantined row is dated by `version_ts` (its own date, when it parses; undated, it always counts).
-#}
{% macro later_export_wins(feed, id_column, date_column) -%}
(
    with versions as (
        select
            t.{{ id_column }} as version_id,
            t.export_id
        from {{ source('raw', feed) }} as t
        where cast(t.{{ date_column }} as date) <= {{ as_of() }}
        union all
        select
            nullif(trim(json_extract_string(q.record, '$.{{ id_column }}')), '') as version_id,
            q.export_id
        from {{ source('raw', 'quarantine_rows') }} as q
        where
            q.feed = '{{ feed }}'
            and (q.version_ts is null or cast(q.version_ts as date) <= {{ as_of() }})
    ),

    -- an id shared by two exports lies in both exports' id ranges: only overlapping exports can share one
    export_ranges as (
        select
            export_id,
            min(version_id) as first_id,
            max(version_id) as last_id
        from versions
        where version_id is not null
        group by export_id
    ),
    overlapping_exports as (
        select distinct a.export_id
        from export_ranges as a
        inner join export_ranges as b
            on a.export_id <> b.export_id and a.first_id <= b.last_id and b.first_id <= a.last_id
    ),
    candidate_versions as (
        select v.version_id
        from versions as v
        where v.version_id is not null and v.export_id in (select o.export_id from overlapping_exports as o)
    ),
    -- ids with several versions, found through their hashes (macro hashes_seen_twice)
    contested_ids as (
        select version_id
        from candidate_versions
        where hash(version_id) in {{ hashes_seen_twice('candidate_versions', 'version_id') }}
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

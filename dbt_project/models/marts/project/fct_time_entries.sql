{#-
    Incremental: a run takes the entries `int_time_entries` wrote since the newest `built_at` this
    table holds (each replaces its row by key). Entries it wrote that are now deleted, or whose item
    is gone, are deleted first, by the pre-hook. The post-hook keeps the triggers that note the
    project days of the rows written for int_project_daily_events (`note_project_days`).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='time_entry_key',
        on_schema_change='fail',
        indexes=[
            {'columns': ['built_at']},
            {'columns': ['project_key']},
            {'columns': ['person_key']},
            {'columns': ['entry_date']},
        ],
        pre_hook="{{ delete_retired_time_entries(ref('int_time_entries')) }}",
        post_hook="{{ note_project_days('time_entries') }}",
    )
}}

with

time_entries as (

    select * from {{ ref('int_time_entries') }}

)

select
    time_entries.time_entry_key,
    time_entries.work_item_key,
    time_entries.project_key,
    time_entries.person_key,
    time_entries.entry_date,
    time_entries.hours,
    time_entries.hourly_rate,
    time_entries.cost,
    time_entries.rate_source,
    time_entries.source_system,
    time_entries.source_instance,
    time_entries.source_id,
    time_entries.started_at,
    time_entries.built_at

from time_entries
where
    not time_entries.is_deleted
    and time_entries.work_item_is_live
    and time_entries.built_at > {{ newest_built_at() }}

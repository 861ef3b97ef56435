{#-
    Incremental by issue: the changelogs the loader wrote or tombstoned since the last build are
    parsed again, and replace every status change stored for their issues (Jira's histories only
    grow, so an issue's new rows cover its old ones).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['source_instance', 'issue_id'],
        on_schema_change='sync_all_columns',
        post_hook="{{ require_not_null(['source_instance', 'issue_id']) }}",
        indexes=[
            {'columns': ['source_instance', 'issue_id', 'history_position', 'item_position'], 'unique': True},
            {'columns': ['(greatest(loaded_at, deleted_at))']},
        ],
    )
}}

with

source as (

    select * from {{ source('jira', 'issue_changelogs') }}
    {{ written_since_last_build() }}

),

histories as (

    select
        source.source_instance,
        source.record_id as issue_id,
        history.entry as history_entry,
        history.position as history_position,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source
    cross join
        lateral jsonb_array_elements(
            case when jsonb_typeof(source.payload -> 'histories') = 'array' then source.payload -> 'histories' end
        ) with ordinality as history (entry, position)

),

status_items as (

    select
        histories.source_instance,
        histories.issue_id,
        histories.history_entry ->> 'id' as history_id,
        histories.history_position,
        item.position as item_position,
        {{ jira_timestamp("histories.history_entry ->> 'created'") }} as changed_at,
        histories.history_entry -> 'author' ->> 'accountId' as author_account_id,
        item.entry ->> 'from' as from_status_id,
        item.entry ->> 'fromString' as from_status_name,
        item.entry ->> 'to' as to_status_id,
        item.entry ->> 'toString' as to_status_name,
        histories.is_deleted,
        histories.deleted_at,
        histories.loaded_at

    from histories
    cross join
        lateral jsonb_array_elements(
            case
                when jsonb_typeof(histories.history_entry -> 'items') = 'array'
                    then histories.history_entry -> 'items'
            end
        ) with ordinality as item (entry, position)
    where coalesce(item.entry ->> 'fieldId', item.entry ->> 'field') = 'status'

)

select * from status_items

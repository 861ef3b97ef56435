{%- set estimate_field = var('asana_estimate_field') | replace("'", "''") -%}

with

source as (

    select * from {{ source('asana', 'tasks') }}

),

renamed as (

    select
        source.source_instance,
        -- The record's id is its gid: a task is found through the raw table's key.
        source.record_id as task_gid,
        source.payload ->> 'name' as task_name,
        coalesce(source.payload ->> 'resource_subtype', 'default_task') as task_subtype,
        (source.payload ->> 'completed') = 'true' as is_completed,
        {{ iso_timestamp("source.payload ->> 'completed_at'") }} as completed_at,
        {{ iso_timestamp("source.payload ->> 'created_at'") }} as created_at,
        {{ iso_timestamp("source.payload ->> 'modified_at'") }} as modified_at,
        {{ text_to_date("source.payload ->> 'start_on'") }} as start_on,
        {{ text_to_date("source.payload ->> 'due_on'") }} as due_on,
        {{ iso_timestamp("source.payload ->> 'due_at'") }} as due_at,
        source.payload -> 'assignee' ->> 'gid' as assignee_gid,
        source.payload -> 'assignee' ->> 'name' as assignee_name,
        source.payload -> 'parent' ->> 'gid' as parent_task_gid,
        source.payload -> 'memberships' -> 0 -> 'project' ->> 'gid' as home_project_gid,
        source.payload -> 'memberships' -> 0 -> 'project' ->> 'name' as home_project_name,
        source.payload -> 'memberships' -> 0 -> 'section' ->> 'gid' as section_gid,
        source.payload -> 'memberships' -> 0 -> 'section' ->> 'name' as section_name,
        {{ jsonb_number(
            "jsonb_path_query_first(source.payload -> 'custom_fields', "
            ~ "'$[*] ? (@.name == $field_name).number_value', "
            ~ "jsonb_build_object('field_name', '" ~ estimate_field ~ "'))"
        ) }} as estimate_hours,
        cast({{ jsonb_number("source.payload -> 'num_subtasks'") }} as integer) as subtask_count,
        source.payload -> 'custom_fields' as custom_fields,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed

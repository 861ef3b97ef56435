{#- A table: int_project_daily_spans, int_project_monthly_inputs and fct_project_daily all read it,
    so the items and the millions of time entries are folded into project days once a build.
    Incremental: a run folds again only the project days whose items or time entries changed since
    its last run, as the facts' triggers noted them (see macros/noted_project_days.sql); its
    pre-hook deletes those days first. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[{'columns': ['project_key', 'date_day'], 'unique': True}],
        pre_hook="{{ fold_noted_project_days([ref('fct_work_items'), ref('fct_time_entries')]) }}",
    )
}}

{%- set fold_plan = project_days_to_fold([ref('fct_work_items'), ref('fct_time_entries')]) -%}
{%- set fold_noted_days_only = fold_plan['every_day'] is none %}

with

work_items as (

    select * from {{ ref('fct_work_items') }}

),

time_entries as (

    select * from {{ ref('fct_time_entries') }}

),

-- The items' events and the entries are folded by project and day apart and then joined: one fold
-- of both together keeps every aggregate for every row, and spills to disk.
item_days as (

    select
        item_events.project_key,
        item_events.event_day,
        sum(item_events.items_created) as items_created,
        sum(item_events.weight_created) as weight_created,
        sum(item_events.items_completed) as items_completed,
        sum(item_events.weight_completed) as weight_completed,
        sum(item_events.overdue_change) as overdue_change

    from {{ project_item_events('work_items') }} as item_events
    {%- if fold_noted_days_only %}
        inner join {{ project_days_to_fold_table() }} as noted
            on
                item_events.project_key = noted.project_key
                and item_events.event_day = noted.date_day
    {%- endif %}
    where item_events.event_day is not null
    group by item_events.project_key, item_events.event_day

),

entry_days as (

    select
        time_entries.project_key,
        time_entries.entry_date as event_day,
        count(*) as time_entries,
        sum(coalesce(time_entries.cost, 0)) as cost

    from time_entries
    {%- if fold_noted_days_only %}
        inner join {{ project_days_to_fold_table() }} as noted
            on
                time_entries.project_key = noted.project_key
                and time_entries.entry_date = noted.date_day
    {%- endif %}
    group by time_entries.project_key, time_entries.entry_date

)

select
    coalesce(item_days.project_key, entry_days.project_key) as project_key,
    coalesce(item_days.event_day, entry_days.event_day) as date_day,
    coalesce(item_days.items_created, 0) as items_created,
    coalesce(item_days.weight_created, 0) as weight_created,
    coalesce(item_days.items_completed, 0) as items_completed,
    coalesce(item_days.weight_completed, 0) as weight_completed,
    coalesce(item_days.overdue_change, 0) as overdue_change,
    coalesce(entry_days.time_entries, 0) as time_entries,
    coalesce(entry_days.cost, 0) as cost

from item_days
full join entry_days
    on
        item_days.project_key = entry_days.project_key
        and item_days.event_day = entry_days.event_day

{#-
    Incremental by entry: a run rebuilds the entries whose worklog or time entry the loader wrote
    or tombstoned since the last run, and the stored entries whose lookups no longer hold: their
    item's project or whether that item is live (loaded and not deleted), their account's person
    and email, that project's default rate or that person's rate card (compared by a fingerprint of
    their periods) changed. An item's project and liveness are compared only for the items
    `int_work_items_unioned` placed since the entries' last run (by its `placed_at`: written new,
    or with another project or liveness): the others hold what the entries were built with. The
    accounts' and projects' lookups are compared with those the last run kept
    (`keep_time_entry_lookups`), and the entries of the few that changed are read through their
    indexes; without kept lookups, every stored entry is compared with the lookups. `built_at` marks
    the rows a run wrote, so `fct_time_entries` can follow.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='time_entry_key',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['time_entry_key'], 'unique': True},
            {'columns': ['work_item_key']},
            {'columns': ['source_system', 'source_changed_at']},
            {'columns': ['built_at']},
            {'columns': ['account_id']},
            {'columns': ['project_key']},
        ],
        post_hook="{{ keep_time_entry_lookups() }}",
    )
}}

{#- A table built before these models kept their lookups has nothing to compare them with: rebuild it whole. -#}
{%- set rebuild_by_entry = is_incremental_with_column('built_at') -%}
{%- set kept_lookups = kept_lookups_if_complete(['account_lookups', 'project_rates']) if rebuild_by_entry else none -%}
{#- Items built before they kept `placed_at`: every item rebuilt since the entries' last run is compared. -#}
{%- set placement_column = 'placed_at'
    if rebuild_by_entry and relation_has_column(ref('int_work_items_unioned'), 'placed_at')
    else 'built_at' -%}

with

-- Not materialized: each reading (the entries changed, the entries rebuilt) goes through the indexes.
jira_worklogs as not materialized (

    select * from {{ ref('stg_jira__worklogs') }}

),

asana_time_entries as not materialized (

    select * from {{ ref('stg_asana__time_entries') }}

),

tool_accounts as (

    select * from {{ ref('int_tool_accounts_resolved') }}

),

people as (

    select * from {{ ref('int_people_resolved') }}

),

-- Not materialized: the items placed since the last run are read through their `placed_at` index.
work_items as not materialized (

    select * from {{ ref('int_work_items_unioned') }}

),

projects as (

    select * from {{ ref('int_projects_mapped') }}

),

rate_card_periods as (

    select * from {{ ref('int_rate_card_periods') }}

),

rate_card_fingerprints as (

    {{ rate_card_fingerprints() }}

),

{% if rebuild_by_entry %}
stale_entries as (

    -- Stored entries of the items placed since they were built, whose item moved project, came or went.
    select
        stored.source_system,
        stored.source_id

    from work_items
    inner join {{ this }} as stored
        on work_items.work_item_key = stored.work_item_key
    where
        work_items.{{ placement_column }} > {{ newest_built_at() }}
        and (
            work_items.project_key is distinct from stored.project_key
            or coalesce(not work_items.is_deleted, false) is distinct from stored.work_item_is_live
        )

    {% if kept_lookups %}

    union all

    -- Stored entries of the accounts whose person, that person's email or rate card changed since
    -- the last run, and of the projects whose default rate changed.
    select
        stored.source_system,
        stored.source_id

    from {{ this }} as stored
    where stored.account_id = any(array(
        {{ changed_lookups(
            time_entry_account_lookups(),
            kept_lookups['account_lookups'],
            ['source_system', 'account_id'],
            ['person_key', 'person_email', 'rate_card_fingerprint'],
            'account_id'
        ) }}
    ))

    union all

    select
        stored.source_system,
        stored.source_id

    from {{ this }} as stored
    where stored.project_key = any(array(
        {{ changed_lookups(
            time_entry_project_rates(), kept_lookups['project_rates'], ['project_key'], ['default_hourly_rate'], 'project_key'
        ) }}
    ))

    {% else %}

    union all

    -- Stored entries whose account's person, that person's email or rate card, or their project's
    -- default rate changed since they were built.
    select
        stored.source_system,
        stored.source_id

    from {{ this }} as stored
    left join tool_accounts
        on
            stored.source_system = tool_accounts.source_system
            and stored.account_id = tool_accounts.account_id
    left join people
        on tool_accounts.person_key = people.person_key
    left join projects
        on stored.project_key = projects.project_key
    left join rate_card_fingerprints
        on people.email = rate_card_fingerprints.email
    where
        tool_accounts.person_key is distinct from stored.person_key
        or people.email is distinct from stored.person_email
        or projects.default_hourly_rate is distinct from stored.project_default_rate
        or rate_card_fingerprints.rate_card_fingerprint is distinct from stored.rate_card_fingerprint

    {% endif %}

),

{% endif %}

jira_time_entries as (

    select
        'jira' as source_system,
        jira_worklogs.source_instance,
        jira_worklogs.worklog_id as source_id,
        jira_worklogs.issue_id as source_work_item_id,
        jira_worklogs.author_account_id as account_id,
        jira_worklogs.started_at,
        -- The calendar date where the work was done: the instant read in the offset it was written in.
        cast((jira_worklogs.started_at at time zone 'UTC') + jira_worklogs.started_utc_offset as date) as entry_date,
        cast(round(jira_worklogs.time_spent_seconds / 3600.0, 2) as numeric(12, 2)) as hours,
        jira_worklogs.is_deleted,
        greatest(jira_worklogs.loaded_at, jira_worklogs.deleted_at) as source_changed_at

    from jira_worklogs
    {% if rebuild_by_entry -%}
        {{ time_entries_to_rebuild(
            'jira',
            'jira_worklogs',
            'greatest(jira_worklogs.loaded_at, jira_worklogs.deleted_at)',
            'jira_worklogs.worklog_id',
        ) }}
    {%- endif %}

),

asana_entries as (

    select
        'asana' as source_system,
        asana_time_entries.source_instance,
        asana_time_entries.time_entry_gid as source_id,
        asana_time_entries.task_gid as source_work_item_id,
        asana_time_entries.created_by_gid as account_id,
        cast(null as timestamptz) as started_at,
        asana_time_entries.entered_on as entry_date,
        cast(round(asana_time_entries.duration_minutes / 60.0, 2) as numeric(12, 2)) as hours,
        asana_time_entries.is_deleted,
        greatest(asana_time_entries.loaded_at, asana_time_entries.deleted_at) as source_changed_at

    from asana_time_entries
    {% if rebuild_by_entry -%}
        {{ time_entries_to_rebuild(
            'asana',
            'asana_time_entries',
            'greatest(asana_time_entries.loaded_at, asana_time_entries.deleted_at)',
            'asana_time_entries.time_entry_gid',
        ) }}
    {%- endif %}

),

time_entries as (

    select * from jira_time_entries

    union all

    select * from asana_entries

),

resolved as (

    select
        {{ surrogate_key(['time_entries.source_system', 'time_entries.source_instance', 'time_entries.source_id']) }}
            as time_entry_key,
        {{ surrogate_key([
            'time_entries.source_system', 'time_entries.source_instance', 'time_entries.source_work_item_id',
        ]) }} as work_item_key,
        time_entries.source_system,
        time_entries.source_instance,
        time_entries.source_id,
        time_entries.source_work_item_id,
        time_entries.account_id,
        tool_accounts.person_key,
        people.email as person_email,
        time_entries.started_at,
        time_entries.entry_date,
        time_entries.hours,
        time_entries.is_deleted,
        time_entries.source_changed_at

    from time_entries
    left join tool_accounts
        on
            time_entries.source_system = tool_accounts.source_system
            and time_entries.account_id = tool_accounts.account_id
    left join people
        on tool_accounts.person_key = people.person_key

),

costed as (

    -- The rate in force on the entry date is the person's rate card row with the latest
    -- effective_from on or before it; without one, the project's default rate from the register.
    select
        resolved.*,
        work_items.project_key,
        coalesce(not work_items.is_deleted, false) as work_item_is_live,
        projects.default_hourly_rate as project_default_rate,
        rate_card_fingerprints.rate_card_fingerprint,
        case
            when rate_card_periods.hourly_rate is not null then 'rate_card'
            when projects.default_hourly_rate is not null then 'project_default'
        end as rate_source,
        coalesce(rate_card_periods.hourly_rate, projects.default_hourly_rate) as hourly_rate

    from resolved
    left join work_items
        on resolved.work_item_key = work_items.work_item_key
    left join projects
        on work_items.project_key = projects.project_key
    left join rate_card_fingerprints
        on resolved.person_email = rate_card_fingerprints.email
    left join rate_card_periods
        on
            resolved.person_email = rate_card_periods.email
            and resolved.entry_date >= rate_card_periods.effective_from
            and (resolved.entry_date < rate_card_periods.effective_to or rate_card_periods.effective_to is null)

)

select
    costed.time_entry_key,
    costed.work_item_key,
    costed.project_key,
    costed.source_system,
    costed.source_instance,
    costed.source_id,
    costed.source_work_item_id,
    costed.person_key,
    costed.person_email,
    costed.started_at,
    costed.entry_date,
    costed.hours,
    costed.rate_source,
    cast(costed.hourly_rate as numeric(18, 2)) as hourly_rate,
    cast(round(costed.hours * costed.hourly_rate, 2) as numeric(18, 2)) as cost,
    costed.is_deleted,
    costed.account_id,
    costed.project_default_rate,
    costed.rate_card_fingerprint,
    costed.source_changed_at,
    costed.work_item_is_live,
    now() as built_at

from costed

with

jira_worklogs as (

    select * from {{ ref('stg_jira__worklogs') }}

),

tool_accounts as (

    select * from {{ ref('int_tool_accounts_resolved') }}

),

jira_time_entries as (

    select
        'jira' as source_system,
        jira_worklogs.source_instance,
        jira_worklogs.worklog_id as source_id,
        jira_worklogs.issue_id as source_work_item_id,
        tool_accounts.person_key,
        jira_worklogs.started_at,
        -- The calendar date where the work was done: the instant read in the offset it was written in.
        cast((jira_worklogs.started_at at time zone 'UTC') + jira_worklogs.started_utc_offset as date) as entry_date,
        cast(round(jira_worklogs.time_spent_seconds / 3600.0, 2) as numeric(12, 2)) as hours,
        jira_worklogs.is_deleted

    from jira_worklogs
    left join tool_accounts
        on
            tool_accounts.source_system = 'jira'
            and jira_worklogs.author_account_id = tool_accounts.account_id

),

time_entries as (

    select * from jira_time_entries

)

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
    time_entries.person_key,
    time_entries.started_at,
    time_entries.entry_date,
    time_entries.hours,
    time_entries.is_deleted

from time_entries

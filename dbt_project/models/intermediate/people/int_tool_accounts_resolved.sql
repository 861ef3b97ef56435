{{ config(materialized='table') }}

with

jira_users as (

    select * from {{ ref('stg_jira__users') }}

),

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

jira_worklogs as (

    select * from {{ ref('stg_jira__worklogs') }}

),

asana_users as (

    select * from {{ ref('stg_asana__users') }}

),

asana_tasks as (

    select * from {{ ref('stg_asana__tasks') }}

),

asana_time_entries as (

    select * from {{ ref('stg_asana__time_entries') }}

),

smartsheet_plan_rows as (

    select * from {{ ref('stg_smartsheet__plan_rows') }}

),

identity_map as (

    select * from {{ ref('stg_csv__person_identity_map') }}

),

account_sightings as (

    -- Every place an account shows up; the lower sighting_rank is trusted first for names and emails.
    -- The items and time entries (millions of rows naming a few thousand accounts) fold first, each
    -- table by its own name and email columns, before the union is folded again below.
    select
        'jira' as source_system,
        jira_users.account_id,
        jira_users.display_name,
        jira_users.email_address,
        1 as sighting_rank,
        jira_users.loaded_at as seen_at

    from jira_users

    union all

    select
        'jira' as source_system,
        jira_issues.assignee_account_id as account_id,
        jira_issues.assignee_display_name as display_name,
        jira_issues.assignee_email_address as email_address,
        2 as sighting_rank,
        max(jira_issues.updated_at) as seen_at

    from jira_issues
    where jira_issues.assignee_account_id is not null
    group by jira_issues.assignee_account_id, jira_issues.assignee_display_name, jira_issues.assignee_email_address

    union all

    select
        'jira' as source_system,
        jira_worklogs.author_account_id as account_id,
        jira_worklogs.author_display_name as display_name,
        jira_worklogs.author_email_address as email_address,
        3 as sighting_rank,
        max(jira_worklogs.updated_at) as seen_at

    from jira_worklogs
    where jira_worklogs.author_account_id is not null
    group by jira_worklogs.author_account_id, jira_worklogs.author_display_name, jira_worklogs.author_email_address

    union all

    select
        'asana' as source_system,
        asana_users.user_gid as account_id,
        asana_users.user_name as display_name,
        asana_users.email as email_address,
        1 as sighting_rank,
        asana_users.loaded_at as seen_at

    from asana_users

    union all

    select
        'asana' as source_system,
        asana_tasks.assignee_gid as account_id,
        asana_tasks.assignee_name as display_name,
        cast(null as text) as email_address,
        2 as sighting_rank,
        max(asana_tasks.modified_at) as seen_at

    from asana_tasks
    where asana_tasks.assignee_gid is not null
    group by asana_tasks.assignee_gid, asana_tasks.assignee_name

    union all

    select
        'asana' as source_system,
        asana_time_entries.created_by_gid as account_id,
        asana_time_entries.created_by_name as display_name,
        cast(null as text) as email_address,
        3 as sighting_rank,
        max(asana_time_entries.created_at) as seen_at

    from asana_time_entries
    where asana_time_entries.created_by_gid is not null
    group by asana_time_entries.created_by_gid, asana_time_entries.created_by_name

    union all

    -- Smartsheet plans name people by email only: the email is the account.
    select
        'smartsheet' as source_system,
        smartsheet_plan_rows.assigned_to_email as account_id,
        cast(null as text) as display_name,
        smartsheet_plan_rows.assigned_to_email as email_address,
        1 as sighting_rank,
        smartsheet_plan_rows.modified_at as seen_at

    from smartsheet_plan_rows
    where smartsheet_plan_rows.assigned_to_email is not null

),

distinct_sightings as (

    -- Each distinct sighting once, at its latest, by hashing, before the ordered aggregates below.
    select
        account_sightings.source_system,
        account_sightings.account_id,
        account_sightings.display_name,
        account_sightings.email_address,
        account_sightings.sighting_rank,
        max(account_sightings.seen_at) as seen_at

    from account_sightings
    group by
        account_sightings.source_system,
        account_sightings.account_id,
        account_sightings.display_name,
        account_sightings.email_address,
        account_sightings.sighting_rank

),

accounts as (

    select
        distinct_sightings.source_system,
        distinct_sightings.account_id,
        (
            array_agg(
                distinct_sightings.display_name
                order by distinct_sightings.sighting_rank asc, distinct_sightings.seen_at desc nulls last
            ) filter (where distinct_sightings.display_name is not null)
        )[1] as display_name,
        (
            array_agg(
                lower(distinct_sightings.email_address)
                order by distinct_sightings.sighting_rank asc, distinct_sightings.seen_at desc nulls last
            ) filter (where distinct_sightings.email_address is not null)
        )[1] as tool_email

    from distinct_sightings
    group by distinct_sightings.source_system, distinct_sightings.account_id

),

resolved as (

    select
        accounts.source_system,
        accounts.account_id,
        accounts.display_name,
        accounts.tool_email,
        coalesce(identity_map.email, accounts.tool_email) as email,
        case
            when identity_map.email is not null then 'identity_map'
            when accounts.tool_email is not null then 'tool'
        end as email_source

    from accounts
    left join identity_map
        on
            accounts.source_system = identity_map.source_system
            and accounts.account_id = identity_map.account_id

)

select
    resolved.source_system,
    resolved.account_id,
    resolved.display_name,
    resolved.tool_email,
    resolved.email,
    resolved.email_source,
    coalesce(resolved.email, resolved.source_system || ':' || resolved.account_id) as person_identifier,
    {{ surrogate_key(["coalesce(resolved.email, resolved.source_system || ':' || resolved.account_id)"]) }}
        as person_key

from resolved

with

milestones as (

    select * from {{ ref('int_milestones') }}

),

baselines as (

    select * from {{ ref('int_milestone_baselines') }}

),

dated as (

    select
        milestones.milestone_key,
        milestones.work_item_key,
        milestones.project_key,
        milestones.source_system,
        milestones.milestone_name,
        coalesce(baselines.baseline_date, milestones.due_date) as baseline_date,
        milestones.due_date,
        milestones.completed_at,
        milestones.is_done,
        cast(milestones.completed_at at time zone 'UTC' as date) as completed_on

    from milestones
    left join baselines
        on milestones.milestone_key = baselines.milestone_key
    where not milestones.is_deleted

),

classified as (

    select
        dated.*,
        case
            when dated.is_done and (dated.due_date is null or dated.completed_on <= dated.due_date) then 'hit'
            when dated.is_done then 'missed'
            when dated.due_date < {{ run_date() }} then 'overdue'
            else 'upcoming'
        end as milestone_status

    from dated

)

select
    classified.milestone_key,
    classified.work_item_key,
    classified.project_key,
    classified.source_system,
    -- `name` is a keyword to the linter, but it is the contract's column name.
    classified.milestone_name as name, -- noqa: RF04
    classified.baseline_date,
    classified.due_date,
    classified.completed_at,
    cast(
        case
            when classified.is_done then classified.completed_on - classified.baseline_date
            when classified.milestone_status = 'overdue' then {{ run_date() }} - classified.baseline_date
        end
        as integer
    ) as slip_days,
    classified.milestone_status

from classified

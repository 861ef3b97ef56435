{{ config(contract={'enforced': true}) }}

with

project_versions as (

    select * from {{ ref('dim_project_history') }}

),

consecutive_versions as (

    select
        project_versions.project_key,
        project_versions.valid_from,
        project_versions.baseline_finish,
        project_versions.forecast_finish,
        lag(project_versions.baseline_finish) over project_timeline as previous_baseline_finish,
        lag(project_versions.forecast_finish) over project_timeline as previous_forecast_finish,
        row_number() over project_timeline as version_number

    from project_versions
    window project_timeline as (
        partition by project_versions.project_key
        order by project_versions.valid_from
    )

),

changes as (

    select
        consecutive_versions.project_key,
        consecutive_versions.valid_from as changed_at,
        'baseline_finish' as field,
        consecutive_versions.previous_baseline_finish as old_date,
        consecutive_versions.baseline_finish as new_date

    from consecutive_versions
    where
        consecutive_versions.version_number > 1
        and consecutive_versions.baseline_finish is distinct from consecutive_versions.previous_baseline_finish

    union all

    select
        consecutive_versions.project_key,
        consecutive_versions.valid_from as changed_at,
        'forecast_finish' as field,
        consecutive_versions.previous_forecast_finish as old_date,
        consecutive_versions.forecast_finish as new_date

    from consecutive_versions
    where
        consecutive_versions.version_number > 1
        and consecutive_versions.forecast_finish is distinct from consecutive_versions.previous_forecast_finish

)

select
    changes.project_key,
    changes.changed_at,
    changes.field,
    changes.old_date,
    changes.new_date,
    changes.new_date - changes.old_date as delta_days

from changes

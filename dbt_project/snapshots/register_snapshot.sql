{% snapshot register_snapshot %}

    {{
        config(
            schema='snapshots',
            unique_key='project_key',
            strategy='check',
            check_cols=[
                'project_code',
                'project_name',
                'program_key',
                'portfolio_key',
                'source_system',
                'source_project_key',
                'project_manager',
                'sponsor',
                'strategic_theme',
                'stage',
                'priority',
                'approved_budget',
                'currency',
                'baseline_start',
                'baseline_finish',
                'forecast_finish',
                'expected_benefit',
                'alignment_score',
                'default_hourly_rate',
                'is_mapped',
            ],
            hard_deletes='invalidate',
        )
    }}

    with

    projects as (

        select * from {{ ref('dim_project') }}

    )

    select
        projects.project_key,
        projects.project_code,
        projects.project_name,
        projects.program_key,
        projects.portfolio_key,
        projects.source_system,
        projects.source_project_key,
        projects.project_manager,
        projects.sponsor,
        projects.strategic_theme,
        projects.stage,
        projects.priority,
        projects.approved_budget,
        projects.currency,
        projects.baseline_start,
        projects.baseline_finish,
        projects.forecast_finish,
        projects.expected_benefit,
        projects.alignment_score,
        projects.default_hourly_rate,
        projects.is_mapped

    from projects

{% endsnapshot %}

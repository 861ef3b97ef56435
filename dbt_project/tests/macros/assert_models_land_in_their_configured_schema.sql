with

cases as (

    select
        'staging' as expected_schema,
        '{{ ref("stg_jira__issues").schema }}' as actual_schema

    union all

    select
        'intermediate' as expected_schema,
        '{{ ref("int_work_items_weighted").schema }}' as actual_schema

    union all

    select
        '{{ var("marts_schema", "marts") }}' as expected_schema,
        '{{ ref("fct_work_items").schema }}' as actual_schema

    union all

    select
        '{{ var("marts_schema", "marts") }}' as expected_schema,
        '{{ ref("dq_unmapped_projects").schema }}' as actual_schema

    union all

    select
        'reporting' as expected_schema,
        '{{ generate_schema_name("reporting", none) }}' as actual_schema

    union all

    select
        '{{ target.schema }}' as expected_schema,
        '{{ generate_schema_name(none, none) }}' as actual_schema

)

select * from cases
where actual_schema != expected_schema

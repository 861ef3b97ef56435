with

cases as (

    select
        cases.json_value,
        cases.expected,
        {{ jsonb_number('cases.json_value') }} as actual

    from (
        values
        (jsonb '5', 5.0),
        (jsonb '0', 0.0),
        (jsonb '2.5', 2.5),
        (jsonb '"5"', null),
        (jsonb 'null', null),
        (jsonb 'true', null),
        (jsonb '{"value": 5}', null),
        (null, null)
    ) as cases (json_value, expected)

)

select * from cases
where actual is distinct from expected

{%- set fields = [('budget', 'number'), ('start', 'date'), ('stage', 'code'), ('owner', 'email')] -%}

with

typed as (

    select
        cases.case_name,
        cases.expected_unparsed,
        {{ typed_field_columns(fields, 'cases.{field}') }}

    from (
        values
        ('all readable', '{}'::text [], '1200.50', '2025-07-18', 'On hold', ' Mia@Example.com '),
        ('blank cells are not errors', '{}'::text [], '', null, null, null),
        ('money with a symbol, a day-first date', '{budget,start}'::text [], '€1,200', '18/07/2025', 'active', null)
    ) as cases (case_name, expected_unparsed, budget, start, stage, owner)

)

select typed.case_name

from typed
where
    typed.unparsed_fields is distinct from typed.expected_unparsed
    or (typed.case_name = 'all readable' and (
        typed.budget is distinct from 1200.50
        or typed.start is distinct from date '2025-07-18'
        or typed.stage is distinct from 'on_hold'
        or typed.owner is distinct from 'mia@example.com'
    ))

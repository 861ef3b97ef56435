with

numbers as (

    select
        cases.input_text,
        cases.expected,
        {{ text_to_numeric('cases.input_text') }} as actual

    from (
        values
        ('374000', 374000.0),
        (' 2.5 ', 2.5),
        ('0', 0.0),
        ('-1e3', -1000.0),
        ('€374,000.00', null),
        ('n/a', null),
        ('true', null),
        ('', null),
        (null, null)
    ) as cases (input_text, expected)

),

dates as (

    select
        cases.input_text,
        cases.expected,
        {{ text_to_date('cases.input_text') }} as actual

    from (
        values
        ('2025-07-18', date '2025-07-18'),
        ('2024-02-29', date '2024-02-29'),
        ('2026-03-04T09:00:00Z', date '2026-03-04'),
        ('2026-02-30', null),
        ('2026-13-01', null),
        ('0000-01-01', null),
        ('18/07/2025', null),
        ('', null),
        (null, null)
    ) as cases (input_text, expected)

),

booleans as (

    select
        cases.input_text,
        cases.expected,
        {{ text_to_boolean('cases.input_text') }} as actual

    from (
        values
        ('true', true),
        ('FALSE', false),
        ('yes', true),
        ('0', false),
        ('maybe', null),
        (null, null)
    ) as cases (input_text, expected)

),

ids as (

    select
        cases.input_text,
        cases.expected,
        {{ id_text('cases.input_text') }} as actual

    from (
        values
        ('1358743156205957', '1358743156205957'),
        ('1358743156205957.0', '1358743156205957'),
        (' MERIDIAN ', 'MERIDIAN'),
        ('', null),
        (null, null)
    ) as cases (input_text, expected)

),

timestamps as (

    select
        cases.input_text,
        cases.expected,
        {{ iso_timestamp('cases.input_text') }} as actual

    from (
        values
        ('2012-02-22T02:06:58.147Z', timestamptz '2012-02-22 02:06:58.147+00'),
        ('2018-04-21T18:06:45Z', timestamptz '2018-04-21 18:06:45+00'),
        ('2018-04-21', null)
    ) as cases (input_text, expected)

)

select 'text_to_numeric' as macro_name, numbers.input_text from numbers
where numbers.actual is distinct from numbers.expected

union all

select 'text_to_date' as macro_name, dates.input_text from dates
where dates.actual is distinct from dates.expected

union all

select 'text_to_boolean' as macro_name, booleans.input_text from booleans
where booleans.actual is distinct from booleans.expected

union all

select 'id_text' as macro_name, ids.input_text from ids
where ids.actual is distinct from ids.expected

union all

select 'iso_timestamp' as macro_name, timestamps.input_text from timestamps
where timestamps.actual is distinct from timestamps.expected

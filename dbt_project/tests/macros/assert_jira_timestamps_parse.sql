with

timestamps as (

    select
        cases.jira_text,
        cases.expected_instant,
        cases.expected_offset,
        {{ jira_timestamp('cases.jira_text') }} as actual_instant,
        {{ jira_utc_offset('cases.jira_text') }} as actual_offset

    from (
        values
        ('2021-01-18T23:45:00.000+1000', timestamptz '2021-01-18 13:45:00+00', interval '10 hours'),
        ('2026-03-04T23:30:00.000-0800', timestamptz '2026-03-05 07:30:00+00', interval '-8 hours'),
        ('2026-03-04T09:00:00.000+0545', timestamptz '2026-03-04 03:15:00+00', interval '5 hours 45 minutes'),
        ('2026-03-04T09:00:00.000+05:30', timestamptz '2026-03-04 03:30:00+00', interval '5 hours 30 minutes'),
        ('2026-03-04T09:00:00Z', timestamptz '2026-03-04 09:00:00+00', interval '0 hours'),
        ('2026-03-04T09:00:00.123456+0000', timestamptz '2026-03-04 09:00:00.123456+00', interval '0 hours'),
        ('2026-03-04', null, null),
        ('yesterday', null, null),
        ('', null, null),
        (null, null, null)
    ) as cases (jira_text, expected_instant, expected_offset)

),

dates as (

    select
        cases.jira_text,
        cases.expected_date,
        {{ jira_date('cases.jira_text') }} as actual_date

    from (
        values
        ('2026-02-01', date '2026-02-01'),
        ('2026-02-01T10:00:00.000+0000', null),
        ('', null),
        (null, null)
    ) as cases (jira_text, expected_date)

)

select
    timestamps.jira_text,
    'timestamp or offset' as checked_value

from timestamps
where
    timestamps.actual_instant is distinct from timestamps.expected_instant
    or timestamps.actual_offset is distinct from timestamps.expected_offset

union all

select
    dates.jira_text,
    'calendar date' as checked_value

from dates
where dates.actual_date is distinct from dates.expected_date

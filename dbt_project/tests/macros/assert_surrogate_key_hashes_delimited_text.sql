with

cases as (

    select
        'three text columns' as case_name,
        {{ surrogate_key(["'jira'", "'default'", "'10101'"]) }} as actual,
        md5('jira|default|10101') as expected

    union all

    select
        'a null is written out, and differs from an empty string' as case_name,
        {{ surrogate_key(["'jira'", "cast(null as text)", "''"]) }} as actual,
        md5('jira|<null>|') as expected

    union all

    select
        'other types are hashed as their text' as case_name,
        {{ surrogate_key(["cast(42 as integer)", "cast('2026-03-10' as date)", "true"]) }} as actual,
        md5('42|2026-03-10|true') as expected

    union all

    select
        'one column' as case_name,
        {{ surrogate_key(["'jira:ALP'"]) }} as actual,
        md5('jira:ALP') as expected

)

select * from cases
where actual is distinct from expected

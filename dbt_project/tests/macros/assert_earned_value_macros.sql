with

cases as (

    select
        'divides' as case_name,
        cast({{ safe_divide('cast(3 as numeric)', 'cast(4 as numeric)') }} = 0.75 as text) as actual,
        'true' as expected

    union all

    select
        'a zero denominator gives null' as case_name,
        cast({{ safe_divide('cast(3 as numeric)', 'cast(0 as numeric)') }} as text) as actual,
        null as expected

    union all

    select
        'a null denominator gives null' as case_name,
        cast({{ safe_divide('cast(3 as numeric)', 'cast(null as numeric)') }} as text) as actual,
        null as expected

    union all

    select
        'a zero numerator gives 0' as case_name,
        cast({{ safe_divide('cast(0 as numeric)', 'cast(4 as numeric)') }} = 0 as text) as actual,
        'true' as expected

    union all

    select
        'above 0.95 is green' as case_name,
        {{ health_band('cast(1.2 as numeric)') }} as actual,
        'green' as expected

    union all

    select
        'exactly 0.95 is green' as case_name,
        {{ health_band('cast(0.95 as numeric)') }} as actual,
        'green' as expected

    union all

    select
        'just below 0.95 is amber' as case_name,
        {{ health_band('cast(0.949999 as numeric)') }} as actual,
        'amber' as expected

    union all

    select
        'exactly 0.85 is amber' as case_name,
        {{ health_band('cast(0.85 as numeric)') }} as actual,
        'amber' as expected

    union all

    select
        'just below 0.85 is red' as case_name,
        {{ health_band('cast(0.849999 as numeric)') }} as actual,
        'red' as expected

    union all

    select
        '0 is red' as case_name,
        {{ health_band('cast(0 as numeric)') }} as actual,
        'red' as expected

    union all

    select
        'no index is grey' as case_name,
        {{ health_band('cast(null as numeric)') }} as actual,
        'grey' as expected

    union all

    select
        'red beats amber' as case_name,
        {{ worse_health("'amber'", "'red'") }} as actual,
        'red' as expected

    union all

    select
        'amber beats green' as case_name,
        {{ worse_health("'green'", "'amber'") }} as actual,
        'amber' as expected

    union all

    select
        'green and green is green' as case_name,
        {{ worse_health("'green'", "'green'") }} as actual,
        'green' as expected

    union all

    select
        'grey yields to green' as case_name,
        {{ worse_health("'grey'", "'green'") }} as actual,
        'green' as expected

    union all

    select
        'grey yields to red' as case_name,
        {{ worse_health("'red'", "'grey'") }} as actual,
        'red' as expected

    union all

    select
        'grey only when both are grey' as case_name,
        {{ worse_health("'grey'", "'grey'") }} as actual,
        'grey' as expected

)

select * from cases
where actual is distinct from expected

{#- Every check of a model's own rows in one test: one dbt node per model instead of one per kind of
    check (each node costs dbt about as much as a night's query over a small model). A row for
    every failure found: the check (`check_name`), its column or columns (`column_name`), the value
    at fault (`value_field`: the duplicated key, the value outside the list or the range, the
    array that should be empty; null for a null) and how many rows hold it (`n_records`).

    Each kind of check reads the model once, as its own test did: the nulls of all `not_null`
    columns in one scan, each `unique` key by a count per key, the `accepted_values` columns
    counted by the combination of their values (there are few) and then read column by column. -#}
{% test row_checks(model, not_null=[], unique=[], accepted_values={}, accepted_ranges={}, empty_arrays=[]) %}

{%- set tested = '(select * from ' ~ model ~ ') as tested' %}
{%- set queries = [] %}

{%- if not_null %}
    {%- set query %}
    select
        cast('not_null' as text) as check_name,
        null_cells.column_name,
        cast(null as text) as value_field,
        count(*) as n_records

    from {{ tested }}
    cross join lateral (
        values
        {%- for column in not_null %}
            ({{ sql_text_literal(column) }}, tested.{{ column }} is null){{ "," if not loop.last }}
        {%- endfor %}
    ) as null_cells (column_name, is_null)
    where null_cells.is_null
    group by null_cells.column_name
    {%- endset %}
    {%- do queries.append(query) %}
{%- endif %}

{%- for key in unique %}
    {%- set columns = [key] if key is string else key %}
    {%- set query %}
    select
        cast('unique' as text) as check_name,
        {{ sql_text_literal(columns | join(', ')) }} as column_name,
        concat_ws(', '
            {%- for column in columns %}, cast(tested.{{ column }} as text){% endfor -%}
        ) as value_field,
        count(*) as n_records

    from {{ tested }}
    where
        {%- for column in columns %}
            tested.{{ column }} is not null{{ " and" if not loop.last }}
        {%- endfor %}
    group by {% for column in columns %}tested.{{ column }}{{ ", " if not loop.last }}{% endfor %}
    having count(*) > 1
    {%- endset %}
    {%- do queries.append(query) %}
{%- endfor %}

{%- if accepted_values %}
    {%- set names = accepted_values.keys() | list %}
    {%- set query %}
    select
        cast('accepted_values' as text) as check_name,
        out_of_list.column_name,
        out_of_list.value_field,
        cast(sum(out_of_list.n_records) as bigint) as n_records

    from (
        select
            {{ names | join(', ') }},
            count(*) as n_records

        from {{ tested }}
        group by {{ names | join(', ') }}
    ) as value_counts
    cross join lateral (
        values
        {%- for name in names %}
            (
                {{ sql_text_literal(name) }},
                cast(value_counts.{{ name }} as text),
                value_counts.n_records,
                value_counts.{{ name }} not in (
                    {%- for value in accepted_values[name] -%}
                        {{ sql_text_literal(value) }}{{ ", " if not loop.last }}
                    {%- endfor -%}
                )
            ){{ "," if not loop.last }}
        {%- endfor %}
    ) as out_of_list (column_name, value_field, n_records, is_outside)
    where out_of_list.is_outside
    group by out_of_list.column_name, out_of_list.value_field
    {%- endset %}
    {%- do queries.append(query) %}
{%- endif %}

{#- The checks of one value at a time: a row per offending value, with how many rows hold it. -#}
{%- set value_checks = [] %}
{%- for column, bounds in accepted_ranges.items() %}
    {%- set outside = 'tested.' ~ column ~ ' < ' ~ bounds['min'] ~ ' or tested.' ~ column ~ ' > ' ~ bounds['max'] %}
    {%- do value_checks.append(('accepted_range', column, outside)) %}
{%- endfor %}
{%- for column in empty_arrays %}
    {%- do value_checks.append(('empty_array', column, 'cardinality(tested.' ~ column ~ ') > 0')) %}
{%- endfor %}

{%- for check_name, column, failing in value_checks %}
    {%- set query %}
    select
        cast({{ sql_text_literal(check_name) }} as text) as check_name,
        {{ sql_text_literal(column) }} as column_name,
        cast(tested.{{ column }} as text) as value_field,
        count(*) as n_records

    from {{ tested }}
    where {{ failing }}
    group by tested.{{ column }}
    {%- endset %}
    {%- do queries.append(query) %}
{%- endfor %}

{%- if not queries %}
    {{ exceptions.raise_compiler_error("row_checks on " ~ model ~ " names no check: give it not_null, unique, accepted_values, accepted_ranges or empty_arrays") }}
{%- endif %}

{{ queries | join('\n\n    union all\n') }}

{% endtest %}

{#- One test over several columns instead of an accepted_values test each: a row for every value a
    column holds that its list lacks (`column_name`, `value_field`, `n_records`), as dbt's
    accepted_values gives one per column. Nulls are not checked, as there. One scan of the model:
    its rows are counted by the combination of the columns' values, of which there are few, and
    each column's values are then read from those counts. -#}
{% test accepted_values_columns(model, columns) %}

{%- set names = columns.keys() | list %}

with

value_counts as (

    select
        {{ names | join(', ') }},
        count(*) as n_records

    from (select * from {{ model }}) as tested
    group by {{ names | join(', ') }}

)

{% for name in names %}
    select
        {{ sql_text_literal(name) }} as column_name,
        cast(value_counts.{{ name }} as text) as value_field,
        sum(value_counts.n_records) as n_records

    from value_counts
    where
        value_counts.{{ name }} not in (
            {%- for value in columns[name] -%}
                {{ sql_text_literal(value) }}{{ ", " if not loop.last }}
            {%- endfor -%}
        )
    group by value_counts.{{ name }}
    {% if not loop.last %}

        union all

    {% endif %}
{%- endfor %}

{% endtest %}

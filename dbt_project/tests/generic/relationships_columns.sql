{#- One test over several foreign keys of a model instead of a relationships test each: a row for
    every value a column holds that its parent lacks (`column_name`, `value_field`, `n_records`);
    nulls pass, as in dbt's relationships. Each column is read against its parent as there, an anti
    join (a scan of the model per column: one scan joined to every parent at once was slower), in
    one query and one node. -#}
{% test relationships_columns(model, columns) %}

{% for name, parent in columns.items() %}
    select
        {{ sql_text_literal(name) }} as column_name,
        cast(child.{{ name }} as text) as value_field,
        count(*) as n_records

    from (select * from {{ model }}) as child
    left join {{ parent.to }} as parent
        on child.{{ name }} = parent.{{ parent.field }}
    where
        child.{{ name }} is not null
        and parent.{{ parent.field }} is null
    group by child.{{ name }}
    {% if not loop.last %}

        union all

    {% endif %}
{%- endfor %}

{% endtest %}

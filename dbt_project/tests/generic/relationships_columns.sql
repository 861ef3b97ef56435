{#- One test over several foreign keys of a model instead of a relationships test each: a row for
    every value a column holds that its parent lacks (`column_name`, `value_field`, `n_records`);
    nulls pass, as in dbt's relationships. Each column is read against its parent as there, an anti
    join (a scan of the model per column: one scan joined to every parent at once was slower), in
    one query and one node.

    A column given `by_index: true` has few distinct values and an index of the model that starts
    with it: its values are read by walking that index, one descent per distinct value (a few
    thousand projects, people or days instead of millions of rows), and only the values its parent
    lacks are counted. Without such an index (a table built by hand, an index dropped) the column is
    read by the anti join, with a warning: a walk would scan the model once per value. -#}
{% test relationships_columns(model, columns) %}

{%- set by_index = [] %}
{%- for name, parent in columns.items() if parent.get('by_index') %}
    {%- do by_index.append(name) %}
{%- endfor %}
{%- set indexed = index_leading_columns(model) if by_index else [] %}

{% for name, parent in columns.items() %}
    {%- set walk_index = name in by_index and (indexed is none or name in indexed) %}
    {%- if parent.get('by_index') and not walk_index %}
        {%- do exceptions.warn(
            "relationships_columns: " ~ model ~ " has no index that starts with " ~ name
            ~ ", so it is read by an anti join instead of by_index: add the index to the model's indexes"
        ) %}
    {%- endif %}
    {%- if walk_index %}
    select
        {{ sql_text_literal(name) }} as column_name,
        cast(orphans.value as text) as value_field,
        (select count(*) from {{ model }} as child where child.{{ name }} = orphans.value) as n_records

    from (
        with recursive distinct_values as (
            (
                select child.{{ name }} as value
                from {{ model }} as child
                where child.{{ name }} is not null
                order by child.{{ name }}
                limit 1
            )

            union all

            select (
                select child.{{ name }}
                from {{ model }} as child
                where child.{{ name }} > distinct_values.value
                order by child.{{ name }}
                limit 1
            )
            from distinct_values
            where distinct_values.value is not null
        )

        select distinct_values.value
        from distinct_values
        left join {{ parent.to }} as parent
            on distinct_values.value = parent.{{ parent.field }}
        where
            distinct_values.value is not null
            and parent.{{ parent.field }} is null
    ) as orphans
    {%- else %}
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
    {%- endif %}
    {% if not loop.last %}

        union all

    {% endif %}
{%- endfor %}

{% endtest %}

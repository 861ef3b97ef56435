{#-
    Post-hook of the large incremental staging models: NOT NULL constraints on the columns their
    grain needs, which PostgreSQL checks on each row a night inserts (a null fails the model, naming
    the column and the row), instead of a test that reads the whole table every night. The
    constraints are set when the table is built whole (one scan); afterwards the columns are
    already not null and the statement does nothing.
-#}
{% macro require_not_null(columns) -%}
    alter table {{ this }}
    {%- for column in columns %}
        alter column {{ adapter.quote(column) }} set not null{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#-
    Pre-hook of every model: dbt creates a table's configured `indexes` only when it creates the
    table, so an incremental table built before an index was configured would never get it. Before
    an incremental run reads or writes its table, the configured indexes the table lacks are created.
    An index counts as there when PostgreSQL's own definition of it (columns or expressions, method,
    predicate) is the one the configured index gets when built on an empty temporary copy of the
    table; a unique index serves a plain request. An index on a column the table does not have yet
    is left to a later run (the model adds the column, or rebuilds the table with its indexes).
-#}
{% macro create_missing_indexes() -%}
    {%- set configured = config.get('indexes') or [] -%}
    {%- if not execute or configured | length == 0 or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set probe_definitions -%}
        create temporary table pmo_index_probe (like {{ this }});
        create temporary table pmo_index_probe_definitions (position integer, definition text);
        do $probe$
        begin
        {%- for index in configured %}
            begin
                create index pmo_index_probe_index on pmo_index_probe
                    using {{ index.get('type', 'btree') }} ({{ index['columns'] | join(', ') }});
                insert into pmo_index_probe_definitions
                select {{ loop.index0 }}, {{ index_definition('indexrelid') }}
                from pg_index
                where indexrelid = 'pmo_index_probe_index'::regclass;
                drop index pmo_index_probe_index;
            exception when undefined_column then
                null;
            end;
        {%- endfor %}
        end
        $probe$;
        select position, definition from pmo_index_probe_definitions
    {%- endset -%}
    {%- set wanted = run_query(probe_definitions).rows -%}
    {%- do run_query('drop table pmo_index_probe, pmo_index_probe_definitions') -%}
    {%- set existing = run_query(
        'select ' ~ index_definition('indexrelid') ~ ' as definition, indisunique as is_unique'
        ~ " from pg_index where indrelid = '" ~ this ~ "'::regclass"
    ).rows -%}
    {%- set statements = [] -%}
    {%- for probed in wanted -%}
        {%- set index = configured[probed['position']] -%}
        {%- set matching = [] -%}
        {%- for row in existing if row['definition'] == probed['definition'] and (row['is_unique'] or not index.get('unique')) -%}
            {%- do matching.append(row) -%}
        {%- endfor -%}
        {%- if matching | length == 0 -%}
            {{- log(this.identifier ~ ": creating the configured index it lacks:" ~ probed['definition'], info=True) -}}
            {%- do statements.append(get_create_index_sql(this, index)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ statements | join(';\n') }}
{%- endmacro %}

{#- An index's definition from its method on (`USING btree (...)`), without its name and table. -#}
{% macro index_definition(index_oid) -%}
    substr(pg_get_indexdef({{ index_oid }}), strpos(pg_get_indexdef({{ index_oid }}), ' USING '))
{%- endmacro %}

{#-
    Pre-hook of every model: dbt creates a contracted table's named check constraints only when it
    creates the table, so an incremental table built before a check was configured would never get
    it. Before an incremental run writes its table, the named check constraints of the model's
    columns that the table lacks are added; PostgreSQL checks the rows already there as it adds one
    (a row that fails it fails the model, naming the constraint).
-#}
{% macro create_missing_checks() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set configured = {} -%}
    {%- for column in model['columns'].values() -%}
        {%- for constraint in column.get('constraints') or [] if is_named_check(constraint) -%}
            {%- do configured.update({constraint['name']: constraint['expression']}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if configured | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set present = run_query(
        "select conname from pg_constraint where contype = 'c' and conrelid = '" ~ this ~ "'::regclass"
    ).columns[0].values() -%}
    {%- set statements = [] -%}
    {%- for name, expression in configured.items() if name not in present -%}
        {{- log(this.identifier ~ ": adding the check constraint it lacks: " ~ name, info=True) -}}
        {%- do statements.append('alter table ' ~ this ~ ' add constraint ' ~ adapter.quote(name) ~ ' check (' ~ expression ~ ')') -%}
    {%- endfor -%}
    {{ statements | join(';\n') }}
{%- endmacro %}

{#- Whether a contract's constraint is a check with a name: `create_table_as` writes those as table
    constraints, so that they keep their names, and `create_missing_checks` looks them up by name. -#}
{% macro is_named_check(constraint) -%}
    {{ return(constraint['type'] == 'check' and constraint.get('name') is not none) }}
{%- endmacro %}

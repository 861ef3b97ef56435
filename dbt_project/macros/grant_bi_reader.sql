{#- Lets the BI role read the marts and nothing else: creates it (NOLOGIN) when missing, grants it
    usage on schema marts and select on every table and view there, and takes back anything it holds
    on any other schema (raw, staging, intermediate, snapshots...) and any write on marts. Meant for
    the on-run-end hook, since dbt recreates mart tables on every run; also runs as
    `dbt run-operation grant_bi_reader`. -#}
{% macro grant_bi_reader() -%}
    {%- if execute -%}
        {%- set role_name = var('bi_reader_role', 'bi_reader') | string -%}
        {%- if not modules.re.match('^[a-z_][a-z0-9_]{0,62}$', role_name) -%}
            {{ exceptions.raise_compiler_error("var bi_reader_role must be a lowercase role name, got '" ~ role_name ~ "'") }}
        {%- endif -%}
        {%- set published_schema = 'marts' -%}
        {%- set schemas_query -%}
            select nspname
            from pg_namespace
            where
                nspname != 'information_schema'
                and nspname not like 'pg\_%'
            order by nspname
        {%- endset -%}
        {%- set existing_schemas = run_query(schemas_query).columns[0].values() -%}
        {%- set role = adapter.quote(role_name) -%}
        {%- set statements -%}
do $grant_bi_reader$
begin
    if not exists (select from pg_roles where rolname = '{{ role_name }}') then
        create role {{ role }} nologin;
    end if;
end
$grant_bi_reader$;
            {%- for schema_name in existing_schemas if schema_name != published_schema %}
revoke all on all tables in schema {{ adapter.quote(schema_name) }} from {{ role }};
revoke all on all sequences in schema {{ adapter.quote(schema_name) }} from {{ role }};
revoke all on all functions in schema {{ adapter.quote(schema_name) }} from {{ role }};
revoke all on schema {{ adapter.quote(schema_name) }} from {{ role }};
            {%- endfor %}
            {%- if published_schema in existing_schemas %}
revoke all on all tables in schema {{ adapter.quote(published_schema) }} from {{ role }};
revoke all on all sequences in schema {{ adapter.quote(published_schema) }} from {{ role }};
revoke create on schema {{ adapter.quote(published_schema) }} from {{ role }};
grant usage on schema {{ adapter.quote(published_schema) }} to {{ role }};
grant select on all tables in schema {{ adapter.quote(published_schema) }} to {{ role }};
            {%- endif %}
        {%- endset -%}
        {%- do run_query(statements) -%}
        {{ log("grant_bi_reader: " ~ role_name ~ " reads schema " ~ published_schema ~ " only", info=true) }}
    {%- endif -%}
{%- endmacro %}

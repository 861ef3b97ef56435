{#- Lets the BI role read the marts and nothing else: creates it (NOLOGIN) when missing, grants it
    usage on schema marts and select on every table and view there, and takes back anything it holds
    on any other schema (raw, staging, intermediate, snapshots...) and any write on marts. Meant for
    the on-run-end hook, since dbt recreates mart tables on every run; also runs as
    `dbt run-operation grant_bi_reader`.

    Only what differs from that is granted or revoked, each object on its own: a GRANT or REVOKE
    rewrites the catalog row of every object it names, even one whose privileges it leaves as they
    were, and the nightly DAG's dbt tasks run side by side, each ending with this hook while another
    creates, renames or comments on its tables; two such writes to one row make PostgreSQL fail the
    second ("tuple concurrently updated"). Once the privileges are right, the hook writes nothing;
    the publish leaves them right (warehouse/publish.py). -#}
{% macro grant_bi_reader() -%}
    {%- if execute -%}
        {%- set role_name = var('bi_reader_role', 'bi_reader') | string -%}
        {%- if not modules.re.match('^[a-z_][a-z0-9_]{0,62}$', role_name) -%}
            {{ exceptions.raise_compiler_error("var bi_reader_role must be a lowercase role name, got '" ~ role_name ~ "'") }}
        {%- endif -%}
        {%- set published_schema = 'marts' -%}
        {%- do run_query(create_bi_reader_role(role_name)) -%}
        {%- set changes = run_query(bi_reader_privilege_changes(role_name, published_schema)).columns[0].values() -%}
        {%- if changes -%}
            {#- Worked out again under a lock: another task's hook may have made them meanwhile. -#}
            {%- do run_query(apply_bi_reader_privilege_changes(role_name, published_schema)) -%}
        {%- endif -%}
        {{ log("grant_bi_reader: " ~ role_name ~ " reads schema " ~ published_schema ~ " only ("
            ~ changes | length ~ " grant or revoke statement(s) needed)", info=true) }}
    {%- endif -%}
{%- endmacro %}

{% macro create_bi_reader_role(role_name) -%}
do $grant_bi_reader$
begin
    perform pg_advisory_xact_lock({{ catalog_lock_key() }});
    if not exists (select from pg_roles where rolname = {{ sql_text_literal(role_name) }}) then
        create role {{ adapter.quote(role_name) }} nologin;
    end if;
end
$grant_bi_reader$
{%- endmacro %}

{#- Runs the statements `bi_reader_privilege_changes` lists, worked out and run under the catalog
    lock (`catalog_lock`), which concurrent runs of this hook wait for, so that two of them never
    write one row. -#}
{% macro apply_bi_reader_privilege_changes(role_name, published_schema) -%}
do $apply_bi_reader_privilege_changes$
declare
    change record;
begin
    perform pg_advisory_xact_lock({{ catalog_lock_key() }});
    for change in
        {{ bi_reader_privilege_changes(role_name, published_schema) | indent(8) }}
    loop
        execute change.statement;
    end loop;
end
$apply_bi_reader_privilege_changes$
{%- endmacro %}

{#- The GRANT and REVOKE statements that bring the role's privileges to "reads `published_schema`
    only", revokes first, one per object whose privileges differ. -#}
{% macro bi_reader_privilege_changes(role_name, published_schema) -%}
{%- set role = sql_text_literal(role_name) -%}
with

grantee as (

    select oid from pg_roles where rolname = {{ role }}

),

user_schemas as (

    select
        oid,
        nspname,
        nspacl,
        nspname = {{ sql_text_literal(published_schema) }} as is_published
    from pg_namespace
    where
        nspname != 'information_schema'
        and nspname not like 'pg\_%'

),

schema_privileges as (

    select
        user_schemas.nspname,
        user_schemas.is_published,
        privileges.privilege_type
    from user_schemas
    cross join lateral aclexplode(user_schemas.nspacl) as privileges
    where privileges.grantee = (select oid from grantee)

),

relations as (

    select
        user_schemas.nspname,
        user_schemas.is_published,
        relations.relname,
        case when relations.relkind = 'S' then 'sequence' else 'table' end as object_kind,
        coalesce((
            select array_agg(privileges.privilege_type order by privileges.privilege_type)
            from aclexplode(relations.relacl) as privileges
            where privileges.grantee = (select oid from grantee)
        ), '{}') as held
    from pg_class as relations
    inner join user_schemas on relations.relnamespace = user_schemas.oid
    where relations.relkind in ('r', 'p', 'v', 'm', 'f', 'S')

),

functions as (

    select
        user_schemas.nspname,
        functions.oid::regprocedure as signature
    from pg_proc as functions
    inner join user_schemas on functions.pronamespace = user_schemas.oid
    where
        not user_schemas.is_published
        and exists (
            select from aclexplode(functions.proacl) as privileges
            where privileges.grantee = (select oid from grantee)
        )

),

changes as (

    select 1 as step, format('revoke all on schema %I from %I', nspname, {{ role }}) as statement
    from schema_privileges
    where not is_published
    group by nspname

    union all

    select 1, format('revoke create on schema %I from %I', nspname, {{ role }})
    from schema_privileges
    where is_published and privilege_type = 'CREATE'

    union all

    select 2, format('revoke all on %s %I.%I from %I', object_kind, nspname, relname, {{ role }})
    from relations
    where
        held != '{}'
        and (not is_published or object_kind = 'sequence' or held != array['SELECT'])

    union all

    select 2, format('revoke all on function %s from %I', signature, {{ role }})
    from functions

    union all

    select 3, format('grant usage on schema %I to %I', nspname, {{ role }})
    from user_schemas
    where
        is_published
        and not exists (
            select from schema_privileges
            where schema_privileges.is_published and schema_privileges.privilege_type = 'USAGE'
        )

    union all

    select 4, format('grant select on table %I.%I to %I', nspname, relname, {{ role }})
    from relations
    where is_published and object_kind = 'table' and held != array['SELECT']

)

select statement
from changes
order by step, statement
{%- endmacro %}

-- The warehouse database and its roles, created on the first start of the `warehouse` service (the
-- postgres image runs this file once, as the superuser, while the data volume is empty):
--   pmo_loader  owns pmo_warehouse: the connectors land raw data and dbt builds every schema as it.
--   bi_reader   logs in from BI tools and reads the published marts; no other schema, no writes.
-- The passwords come from the container's environment (docker/.env), read with psql's \getenv.

\set ON_ERROR_STOP on
\getenv loader_password WAREHOUSE_LOADER_PASSWORD
\getenv bi_reader_password WAREHOUSE_BI_READER_PASSWORD

create role pmo_loader with login nosuperuser nocreatedb nocreaterole password :'loader_password';
create role bi_reader with login nosuperuser nocreatedb nocreaterole noinherit password :'bi_reader_password';

-- PostgreSQL's builtin C.UTF-8 locale orders text by code point, as libc's C.UTF-8 does, without
-- going through libc for each comparison: the models' sorts, joins and indexes of text keys run faster.
create database pmo_warehouse with owner pmo_loader
    template template0 encoding 'UTF8' locale_provider builtin builtin_locale 'C.UTF-8';
revoke all on database pmo_warehouse from public;
grant connect on database pmo_warehouse to bi_reader;

\connect pmo_warehouse

-- No one but the owner sees the public schema: dbt's tests and seeds would land there.
revoke all on schema public from public;

-- The layers, owned by the loader; dbt and the connectors would create them too, but the grants below
-- need marts to exist.
create schema raw authorization pmo_loader;
create schema staging authorization pmo_loader;
create schema intermediate authorization pmo_loader;
create schema marts authorization pmo_loader;

grant usage on schema marts to bi_reader;
grant select on all tables in schema marts to bi_reader;
-- A `dbt build` by hand rebuilds mart tables in place: each new table is readable by bi_reader from the
-- start. The nightly DAG instead builds into marts_build and swaps it in, granting bi_reader as it publishes.
alter default privileges for role pmo_loader in schema marts grant select on tables to bi_reader;

alter role bi_reader in database pmo_warehouse set search_path = marts;
alter role bi_reader set default_transaction_read_only = on;

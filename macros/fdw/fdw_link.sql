{#- The configuration of the link owned by a target: vars `fdw_links` and
    `fdw_server_options`, the remote's address and TLS settings from the environment. -#}
{% macro fdw_link(target_name=none) %}
    {%- set name = target_name or target.name -%}
    {%- set links = var('fdw_links') -%}
    {%- if name not in links -%}
        {{ exceptions.raise_compiler_error(
            "no postgres_fdw link is configured for target '" ~ name ~ "'; use --target "
            ~ (links.keys() | list | join(' or ')) ~ " (vars fdw_links in dbt_project.yml)") }}
    {%- endif -%}
    {%- set link = links[name] -%}
    {%- set prefix = link.remote_env -%}
    {%- set default_port = '55432' if prefix == 'WEBAPP' else '55433' -%}
    {%- set options = {
        'host': fdw_setting(prefix, 'HOST', '127.0.0.1'),
        'port': fdw_setting(prefix, 'PORT', default_port),
        'dbname': fdw_setting(prefix, 'DBNAME', env_var(prefix ~ '_DB_NAME', prefix | lower)),
        'sslmode': fdw_sslmode(fdw_setting(prefix, 'SSLMODE', 'verify-full')),
    } -%}
    {%- set rootcert = fdw_setting(prefix, 'SSLROOTCERT', '') -%}
    {%- if rootcert -%}
        {%- do options.update({'sslrootcert': rootcert}) -%}
    {%- endif -%}
    {%- do options.update(var('fdw_server_options')) -%}
    {%- set tables = fdw_remote_tables(link) -%}
    {%- if link.tables_from_source -%}
        {%- do refuse_unlinkable_tables(tables, "the dbt sources of " ~ link.tables_from_source) -%}
    {%- endif -%}
    {%- do return({
        'target': name,
        'server': link.server,
        'local_schema': link.local_schema,
        'remote_schema': link.remote_schema,
        'remote_user': link.remote_user,
        'password_setting': link.password_setting,
        'grants_sources_to': link.grants_sources_to,
        'publish_scope': link.publish_scope or 'all',
        'options': options,
        'tables': tables,
    }) -%}
{% endmacro %}


{#- <PREFIX>_FDW_<NAME>, else <PREFIX>_DB_<NAME>, else the default (HOST, PORT, SSLMODE…). -#}
{% macro fdw_setting(prefix, name, default) %}
    {%- set db_name = 'NAME' if name == 'DBNAME' else name -%}
    {{ return(env_var(prefix ~ '_FDW_' ~ name, env_var(prefix ~ '_DB_' ~ db_name, default)) | trim) }}
{% endmacro %}


{#- TLS is required on the links: require, verify-ca or verify-full. Anything else (a typo,
    a weaker mode) falls back to the strictest, verify-full. -#}
{% macro fdw_sslmode(value) %}
    {%- set cleaned = value | trim | lower -%}
    {{ return(cleaned if cleaned in ('require', 'verify-ca', 'verify-full') else 'verify-full') }}
{% endmacro %}


{#- The remote tables a link imports: the dbt sources it reads, or the models of a schema. -#}
{% macro fdw_remote_tables(link) %}
    {%- set tables = [] -%}
    {%- if link.tables_from_source -%}
        {%- for source in graph.sources.values() if source.source_name == link.tables_from_source -%}
            {%- do tables.append(source.identifier) -%}
        {%- endfor -%}
    {%- else -%}
        {%- for node in graph.nodes.values()
              if node.resource_type == 'model' and node.config.schema == link.tables_from_schema -%}
            {%- do tables.append(node.alias or node.name) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do return(tables | unique | sort) -%}
{% endmacro %}


{#- A SQL string literal (single quotes doubled). -#}
{% macro sql_literal(value) -%}
    '{{ (value | string).replace("'", "''") }}'
{%- endmacro %}


{#- A SQL text[] literal. -#}
{% macro sql_text_array(values) -%}
    array[{% for value in values %}{{ sql_literal(value) }}{{ ', ' if not loop.last }}{% endfor %}]::text[]
{%- endmacro %}

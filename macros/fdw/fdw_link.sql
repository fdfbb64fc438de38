{#- The configuration of the link owned by a target: vars `fdw_links` + the environment. -#}
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
    {%- set host = env_var(prefix ~ '_FDW_HOST', env_var(prefix ~ '_DB_HOST', '127.0.0.1')) -%}
    {%- set default_port = '55432' if prefix == 'WEBAPP' else '55433' -%}
    {%- set port = env_var(prefix ~ '_FDW_PORT', env_var(prefix ~ '_DB_PORT', default_port)) -%}
    {%- set dbname = env_var(prefix ~ '_FDW_DBNAME', env_var(prefix ~ '_DB_NAME', prefix | lower)) -%}
    {%- set options = {'host': host, 'port': port | string, 'dbname': dbname} -%}
    {%- do options.update(var('fdw_server_options')) -%}
    {%- do return({
        'target': name,
        'server': link.server,
        'local_schema': link.local_schema,
        'remote_schema': link.remote_schema,
        'remote_user': link.remote_user,
        'password_setting': link.password_setting,
        'options': options,
        'tables': fdw_remote_tables(link),
    }) -%}
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
{% macro fdw_literal(value) -%}
    '{{ (value | string).replace("'", "''") }}'
{%- endmacro %}


{#- A SQL text[] literal. -#}
{% macro fdw_text_array(values) -%}
    array[{% for value in values %}{{ fdw_literal(value) }}{{ ', ' if not loop.last }}{% endfor %}]::text[]
{%- endmacro %}

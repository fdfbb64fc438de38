{#- dbt-postgres's column introspection, with the name of user-defined types (PostGIS's
    geography) instead of information_schema's 'USER-DEFINED', which is no type: unit tests
    cast their given rows to these types. -#}
{% macro postgres__get_columns_in_relation(relation) -%}
    {% call statement('get_columns_in_relation', fetch_result=True) %}
        select
            column_name,
            case when data_type = 'USER-DEFINED' then udt_schema || '.' || udt_name else data_type end as data_type,
            character_maximum_length,
            numeric_precision,
            numeric_scale
        from {{ relation.information_schema('columns') }}
        where table_name = '{{ relation.identifier }}'
            {% if relation.schema %}
            and table_schema = '{{ relation.schema }}'
            {% endif %}
        order by ordinal_position
    {% endcall %}
    {%- set table = load_result('get_columns_in_relation').table -%}
    {{ return(sql_convert_columns_in_relation(table)) }}
{% endmacro %}

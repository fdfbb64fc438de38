{#- post-hook of every model: an index on the column naming the row's actor (meta.acteur; for a
    model reaching its actor through another model, the column pointing into it), so that
    merge_slice finds the rows of a few thousand actors by index instead of scanning every
    table. Nothing when one of the model's own indexes leads with that column, in an
    incremental build (slice tables are small and read whole), for reference data, nor for
    the change set (merge_slice never merges it). -#}
{% macro acteur_index() %}
    {%- if not execute or slice_build() or model.config.materialized != 'table' or 'publication' in model.tags -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set rule = model_acteur_rule(model) -%}
    {%- if rule is sameas false -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set column = rule.column if rule is mapping else rule -%}
    {%- for index in model.config.get('indexes') or [] if (index.columns or [])[:1] == [column] -%}
        {{ return('select 1') }}  {#- the model's own indexes already lead with it -#}
    {%- endfor -%}
    {{ return('create index on ' ~ this ~ ' (' ~ adapter.quote(column) ~ ')') }}
{% endmacro %}

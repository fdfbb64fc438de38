{#- Fresh statistics for the webapp tables a publication changed a large share of (var
    publish_analyze_share), in the publication's job: the map's queries are then planned on
    the rows the tables hold, not on those of the empty tables a first publication filled. -#}
{% macro analyze_published(report, sizes) %}
    {%- set share = number_argument('publish_analyze_share', var('publish_analyze_share'), 0, 1) -%}
    {%- for row in report -%}
        {%- set changed = row.inserted + row.updated + row.deleted -%}
        {%- if changed > 0 and changed >= share * ([sizes[row.table], 1] | max) -%}
            {%- do run_query("analyze public." ~ adapter.quote(row.table)) -%}
            {{ print("  analyzed " ~ row.table ~ " (" ~ changed ~ " of " ~ sizes[row.table] ~ " rows changed)") }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}

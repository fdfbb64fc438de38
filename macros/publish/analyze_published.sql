{#- Fresh statistics for the webapp tables a publication changed a large share of (var
    publish_analyze_share), inside the publication's transaction: they become visible with the
    rows at commit, so that no query of the map is ever planned on the statistics of the empty
    tables a first publication filled (the 1M benchmark saw one stall in that window when the
    analyze ran after the commit). -#}
{% macro analyze_published(report, sizes) %}
    {%- set share = number_argument('publish_analyze_share', var('publish_analyze_share'), 0, 1) -%}
    {%- for row in report -%}
        {%- set changed = row.inserted + row.updated + row.deleted -%}
        {%- if changed > 0 and run_query(analyze_due_statement(sizes[row.table], changed, share)).rows[0][0] -%}
            {%- do run_query("analyze public." ~ adapter.quote(row.table)) -%}
            {{ print("  analyzed " ~ row.table ~ " (" ~ changed ~ " of " ~ sizes[row.table] ~ " rows changed)") }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}

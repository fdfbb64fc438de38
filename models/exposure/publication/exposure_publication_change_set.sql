{#- One row: the change set the webapp applies next. Its id is the run that prepared it; the
    webapp applies it only on top of base_change_set (the last change set the warehouse saw
    it confirm), else it reconciles every table. -#}
{%- set plan = change_set_plan() %}

with last_run as (
    select max(run_id) as run_id from {{ source('lacarte_state', 'runs') }}
),

status as (
    select
        confirmed_change_set,
        publish_all
    from {{ source('lacarte_state', 'status') }}
),

changes as (
    select count(*) as change_rows from {{ ref('exposure_publication_changes') }}
)

select
    last_run.run_id as change_set_id,
    status.confirmed_change_set as base_change_set,
    changes.change_rows,
    last_run.run_id as covered_run,
    {{ 'true' if plan.reconcile else 'false' }} as reconcile,
    {{ sql_literal(plan.reasons | join('; ')) if plan.reconcile else 'null::text' }} as reconcile_reason,
    case when status.publish_all then 'all' else 'acteurs' end as scope,
    {#- After a full build (publish_all), what each webapp table holds before this change set,
        by the warehouse's copy (`current`: a table that holds anything else was changed
        behind the publication's back), and what each exposure holds (`next`: the
        publication's shrink guard compares it with the webapp table). An incremental change
        set counts nothing: the webapp checks each row it changes. #}
    {%- for column, side in [('expected_rows', 'current'), ('exposure_rows', 'next')] %}
    {%- if plan.reconcile and side == 'current' %}
    null::jsonb as {{ column }},
    {%- else %}
    case
        when status.publish_all
            then jsonb_build_object(
                    {%- for item in plan.published %}
                    '{{ item.table }}',
                    (select count(*) from {{ change_set_relation(item, side) }}){{ ',' if not loop.last }}
                    {%- endfor %}
                )
    end as {{ column }},
    {%- endif %}
    {%- endfor %}
    clock_timestamp() as prepared_at
from last_run
cross join status
cross join changes

{#- The rows of an exposure model whose actor is in the sample (int_acteurs__in_sample). -#}
{% macro rows_in_sample(exposure_model, acteur_key) %}
select exposure.*
from {{ exposure_model }} as exposure
where exposure.{{ acteur_key }} in (select identifiant_unique from {{ ref('int_acteurs__in_sample') }})
{% endmacro %}

"""webapp_sample: a consistent sample of the webapp (the actors of a few territories), built
aside from the live catalog and the copy rules, validated, then swapped in."""

"""The queue (DESIGN.md: a queue item with due times): what needs a person, in what order,
due when. items.py makes and escalates queue items, sla.py says when they are due and how
they are going. Below triage and decisions, which both use it; it uses neither."""

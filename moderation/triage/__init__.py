"""Judging stored comments and queueing what needs a person (DESIGN.md: the policy engine's
verdict, then a queue item with due times): classify.py is the one path every caller takes
(webhooks, polling, edits, the sweeper); queue.py, sla.py and history.py serve it."""

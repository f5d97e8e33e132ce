"""Judging stored comments (DESIGN.md: the policy engine's verdict): classify.py is the one
path every caller takes (webhooks, polling, edits, the sweeper), history.py what the engine
is told of an author. What needs a person goes to the queue (moderation/queue), and
"apply automatically" rules to decisions (moderation/decisions)."""

"""Getting comments in (DESIGN.md's first stage): polling channels (polling.py), webhook
deliveries (endpoints.py receives, webhooks.py processes), and storing what arrives
(store.py). Each hands the new comments to triage (moderation/triage) after commit."""

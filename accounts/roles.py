"""The three roles, as groups of permissions.

Views check permissions, never group names, so an organisation can give one person two
roles (a duty manager who also works the queue) by adding both groups.
"""

OFFICER = "Comms officer"
DUTY_MANAGER = "Duty manager"
POLICY_ADMIN = "Policy admin"

# Permission codenames live on accounts.User (see its Meta) so the data migration that
# creates the groups depends on nothing outside this app.
WORK_QUEUE = "accounts.work_queue"
HANDLE_ESCALATIONS = "accounts.handle_escalations"
MANAGE_POLICY = "accounts.manage_policy"
MANAGE_ROTA = "accounts.manage_rota"
VIEW_AUDIT = "accounts.view_audit"

PERMISSIONS = {
    "work_queue": "Can work the moderation queue",
    "handle_escalations": "Can acknowledge and handle out-of-hours escalations",
    "manage_policy": "Can edit, test, publish and roll back moderation rules",
    "manage_rota": "Can edit the duty manager on-call rota",
    "view_audit": "Can read the audit trail",
}

ROLE_PERMISSIONS = {
    OFFICER: ["work_queue"],
    DUTY_MANAGER: ["work_queue", "handle_escalations", "manage_rota", "view_audit"],
    POLICY_ADMIN: ["manage_policy", "manage_rota", "view_audit"],
}

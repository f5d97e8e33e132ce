"""The policy admin pages (issue 6): thin function views, one module per screen group.

The pages over stored comments (dry runs, rule statistics) are moderation's views
(moderation/views/dryruns.py): they live where the comments live (README, Architecture).
"""

from policy.views.editing import (
    rule_delete,
    rule_edit,
    rule_new,
    rule_toggle,
    version_rules,
    version_section,
    version_terms,
)
from policy.views.trying import try_comment
from policy.views.versions import (
    draft_create,
    ruleset_import,
    version_export,
    version_history,
    version_publish,
    versions,
)

__all__ = [
    "draft_create",
    "rule_delete",
    "rule_edit",
    "rule_new",
    "rule_toggle",
    "ruleset_import",
    "try_comment",
    "version_export",
    "version_history",
    "version_publish",
    "version_rules",
    "version_section",
    "version_terms",
    "versions",
]

"""What each platform's API lets us do to a comment (../shared/platforms/README.md §0).

Each entry is (supported, note). The note is shown to officers: why an action is missing,
or what the platform really does when we ask for it.
"""

from __future__ import annotations

from typing import NamedTuple


class Capability(NamedTuple):
    supported: bool
    note: str = ""
    # What the platform really does when we ask for this action, when it is not the action
    # itself (X "block" is a mute): the console names it in its confirmations.
    applies_as: str = ""


ACTIONS = ("hide", "unhide", "delete", "block", "reply")

CAPABILITIES: dict[str, dict[str, Capability]] = {
    "facebook": {
        "hide": Capability(True, "Hidden comments stay visible to their author."),
        "unhide": Capability(True),
        "delete": Capability(True),
        "block": Capability(True, "Blocks the person from the Page."),
        "reply": Capability(True),
    },
    "instagram": {
        "hide": Capability(True),
        "unhide": Capability(True),
        "delete": Capability(True),
        "block": Capability(False, "Instagram's API has no way to block or restrict an account; do it in the Instagram app."),
        "reply": Capability(True),
    },
    "youtube": {
        "hide": Capability(True, "YouTube has no hide: the comment is held for review instead."),
        "unhide": Capability(True, "Publishes a held comment again."),
        "delete": Capability(True, "YouTube deletes only our own comments: others' are rejected (removed from view)."),
        "block": Capability(True, "Rejects the comment and bans the author from the channel."),
        "reply": Capability(True),
    },
    "x": {
        "hide": Capability(True, "X hides replies only in conversations our account started."),
        "unhide": Capability(True, "Only in conversations our account started."),
        "delete": Capability(False, "X does not let us delete other people's posts; hide the reply instead."),
        # Blocking is Enterprise-only (README §5.3); mute is the documented fallback.
        "block": Capability(
            True,
            "X's API blocks only on Enterprise plans, so this mutes the author instead: our account stops "
            "seeing their posts, but they can still reply, so hide their replies as they come.",
            applies_as="mute",
        ),
        "reply": Capability(True),
    },
}


def capability(platform: str, action: str) -> Capability:
    return CAPABILITIES.get(platform, {}).get(action, Capability(False, "Unknown platform or action."))


def supported_actions(platform: str) -> list[str]:
    return [a for a in ACTIONS if capability(platform, a).supported]

"""Facebook Pages (README §2): poll /{page}/feed then /{post}/comments?filter=stream&since=
(the recent posts every round, older ones swept a feed page at a time); webhooks field
"feed"; hide/unhide/delete/block/reply with a Page access token."""

from __future__ import annotations

import datetime as dt
import time

from moderation.platforms.base import (
    FetchResult,
    IncomingComment,
    MAX_PAGES_PER_POLL,
    NotSupported,
    WebhookEvent,
    parse_time,
)
from moderation.platforms.meta import GraphClient, hand_over_marks

COMMENT_FIELDS = "id,message,from,created_time,parent{id},permalink_url,is_hidden,can_hide,comment_count,like_count"
# Recent posts whose comments every round reads; 25 is Graph's default page and covers
# weeks of an ICB page's posting.
POSTS_PER_POLL = 25
COMMENTS_PAGE_SIZE = 100  # Graph's maximum `limit`
# Older posts are swept behind them, a feed page (`after` cursor) at a time, with a share of
# each poll's MAX_PAGES_PER_POLL kept for it so the recent round (a call per post per round)
# cannot starve it. About one post per call: a lap of OLDER_POSTS_MAX posts is ~520 calls.
# A quiet round is 5 polls that follow each other at once (`more`): 3 sweep calls in each of
# the first four, 8 in the last (what the round left), so 20 a round and a lap in ~26
# rounds, under half an hour at the default 60 s interval. Comments on posts older than
# that arrive only through the webhook.
OLDER_PAGES_PER_POLL = 3
OLDER_POSTS_PAGE = 25
OLDER_POSTS_MAX = 500


def _incoming(item: dict, *, page_id: str, post_id: str) -> IncomingComment:
    author = item.get("from") or {}
    parent = (item.get("parent") or {}).get("id", "")
    created = parse_time(item.get("created_time"))
    return IncomingComment(
        external_id=str(item.get("id", "")),
        text=str(item.get("message", "")),
        author_external_id=str(author.get("id", "")),
        author_name=str(author.get("name", "")),
        parent_external_id=str(parent),
        thread_external_id=post_id,
        created_upstream=created,
        permalink=str(item.get("permalink_url", "")),
        raw=item,
        # The Page's own replies come back too: stored for the thread, never moderated.
        is_own=str(author.get("id", "")) == page_id,
        # Graph has no edit time for a comment, so a polled copy is as old as the comment:
        # it never replaces an edit a webhook brought, and replaces another copy of that age.
        source_version_at=created,
    )


class FacebookClient(GraphClient):
    platform = "facebook"
    base_setting = "FACEBOOK_API_BASE"

    def fetch_since(self, cursor: dict) -> FetchResult:
        """Cursor: {"since": unix seconds, "posts": {post id: unix seconds}, "resume": post id,
        "round": unix seconds, "older": {...}}.

        The POSTS_PER_POLL most recent posts, a round of them over as many polls as it takes
        (``more`` until the round is done): each post costs a call a round, more than one
        poll's budget, so ``resume`` says which post the round goes on at (its own mark says
        where in its comments). Comments come oldest first per post (order=chronological),
        so after each page the post's mark can advance safely. A post without a mark is
        read from ``since``: when the last finished round began (0 before the first: the
        recent posts' history is read), as a post not in the feed then was published after
        it. ``round`` is when the round under way began. Marks are inclusive: comments in
        the boundary second are read twice and the idempotent upsert ignores them. Older
        posts: ``GraphClient.sweep_older``."""
        default_since = int(cursor.get("since", 0))
        marks = {k: int(v) for k, v in (cursor.get("posts") or {}).items()}
        resume = str(cursor.get("resume") or "")
        now = int(time.time())
        round_began = int(cursor.get("round", now)) if resume else now
        budget = [MAX_PAGES_PER_POLL - OLDER_PAGES_PER_POLL]
        feed = self._json(self.request("GET", f"{self.account_id}/feed", params={"fields": "id", "limit": POSTS_PER_POLL}))
        budget[0] -= 1
        paging = feed.get("paging") or {}
        recent_after = (paging.get("cursors") or {}).get("after") if paging.get("next") else None
        ids = [str(p.get("id")) for p in feed.get("data") or []]
        # The post to go on at is gone (deleted, or pushed out by new posts): the round
        # starts again from the newest, still since it began, as the posts after it are unread.
        start = ids.index(resume) if resume in ids else 0
        comments: list[IncomingComment] = []
        next_resume = ""
        for post_id in ids[start:]:
            if budget[0] <= 0 or self.usage_backoff:
                next_resume = post_id
                break
            read, marks[post_id], finished = self._post_comments(post_id, marks.get(post_id, default_since), budget)
            comments += read
            if not finished:
                next_resume = post_id
                break
        # Only posts still among the recent ones keep a mark here; the sweep takes over the
        # others' marks, so a post pushed out by new posts before a round read it again is
        # read from its own mark, not only from the sweep's `since`, which can have moved
        # past a comment written since that round. (An empty feed hands nothing over.)
        older, marks = hand_over_marks(dict(cursor.get("older") or {}), marks, ids, now=now)
        # The sweep's queue holds post ids; ``mark`` is its place in the first of them.
        older, read = self.sweep_older(
            older, recent_after, [budget[0] + OLDER_PAGES_PER_POLL], now=now, path=f"{self.account_id}/feed",
            fields="id", page_size=OLDER_POSTS_PAGE, max_depth=OLDER_POSTS_MAX,
            entry=lambda post: str(post.get("id")), entry_id=str, progress="mark", read=self._older_post,
            keep_empty_queue=True)
        comments += read
        next_cursor: dict = {"since": default_since if next_resume else round_began, "posts": marks, "older": older}
        if next_resume:
            next_cursor.update(resume=next_resume, round=round_began)
        return FetchResult(
            comments=comments,
            cursor=next_cursor,
            more=bool(next_resume) and not self.usage_backoff,
            backoff_seconds=self.usage_backoff,
        )

    def _post_comments(self, post_id: str, mark: int, budget: list[int]) -> tuple[list[IncomingComment], int, bool]:
        """A post's comments since ``mark``, oldest first: (comments, new mark, read to the end)."""
        params = {"filter": "stream", "order": "chronological", "since": mark,
                  "limit": COMMENTS_PAGE_SIZE, "fields": COMMENT_FIELDS}
        comments, finished = [], False
        for data, after in self.pages(f"{post_id}/comments", params, budget=budget):
            for item in data:
                incoming = _incoming(item, page_id=self.account_id, post_id=post_id)
                comments.append(incoming)
                if incoming.created_upstream:
                    mark = max(mark, int(incoming.created_upstream.timestamp()))
            finished = after is None
            if self.usage_backoff:
                break
        return comments, mark, finished

    def _older_post(self, post_id: str, since: int, mark: int | None, budget: list[int]):
        """The sweep's reader (``GraphClient.sweep_older``): an older post's comments from its
        ``mark`` (how far a poll that ran out got: comments come oldest first) or ``since``;
        (comments, the mark to go on from, or None once the post is read to the end)."""
        comments, mark, finished = self._post_comments(post_id, int(mark or since), budget)
        return comments, None if finished else mark

    def apply(self, kind, *, comment_external_id, author_external_id="", thread_external_id="", payload=None):
        payload = payload or {}
        if kind in ("hide", "unhide"):
            body = self._json(self.request("POST", comment_external_id, data={"is_hidden": "true" if kind == "hide" else "false"}))
        elif kind == "delete":
            body = self._json(self.request("DELETE", comment_external_id))
        elif kind == "block":
            if not author_external_id:
                raise NotSupported("facebook: the comment has no author id to block")
            body = self._json(self.request("POST", f"{self.account_id}/blocked", data={"asid": f'["{author_external_id}"]'}))
        elif kind == "reply":
            body = self._json(self.request("POST", f"{comment_external_id}/comments", data={"message": payload.get("message", "")}))
        else:
            raise NotSupported(f"facebook: unknown action {kind}")
        return body if isinstance(body, dict) else {"result": body}


def _change_version(verb: str, *, created, changed_at):
    """The version of the text a feed change carries. An ``add`` is the comment as first
    posted, whenever it is delivered (a retry comes with a new ``entry[].time``): its
    ``created_time``. An edit is as new as the change (``entry[].time``), and always newer
    than the comment it edits, whatever ``created_time`` says."""
    if verb == "add":
        return created
    candidates = [t for t in (changed_at, created and created + dt.timedelta(microseconds=1)) if t is not None]
    return max(candidates) if candidates else None


def parse_page_webhook(payload: dict) -> list[WebhookEvent]:
    """object "page", field "feed", item "comment" (README §2.2): add/edited -> upsert,
    remove -> delete, hide/unhide -> the comment's upstream hidden state."""
    events = []
    for entry in payload.get("entry") or []:
        page_id = str(entry.get("id", ""))
        changed_at = parse_time(entry.get("time"))
        for change in entry.get("changes") or []:
            if change.get("field") != "feed":
                continue
            value = change.get("value") or {}
            if value.get("item") != "comment" or not value.get("comment_id"):
                continue
            verb = value.get("verb")
            comment_id = str(value["comment_id"])
            if verb in ("remove", "delete"):
                events.append(WebhookEvent("facebook", page_id, "delete", external_id=comment_id))
                continue
            if verb in ("hide", "unhide"):
                # Someone hid or unhid it on Facebook (or it is the echo of our own action):
                # the comment's upstream state, recorded with an audit event.
                events.append(WebhookEvent("facebook", page_id, verb, external_id=comment_id))
                continue
            if verb not in ("add", "edited", "edit", "update"):
                continue
            author = value.get("from") or {}
            author_id = str(author.get("id") or value.get("sender_id") or "")
            post_id = str(value.get("post_id", ""))
            parent_id = str(value.get("parent_id", ""))
            created = parse_time(value.get("created_time"))
            events.append(WebhookEvent("facebook", page_id, "upsert", comment=IncomingComment(
                external_id=comment_id,
                text=str(value.get("message", "")),
                author_external_id=author_id,
                author_name=str(author.get("name") or value.get("sender_name") or ""),
                # parent_id == post_id for top-level comments (README §2.2).
                parent_external_id="" if parent_id == post_id else parent_id,
                thread_external_id=post_id,
                created_upstream=created,
                raw=value,
                is_own=author_id == page_id,
                source_version_at=_change_version(verb, created=created, changed_at=changed_at),
            )))
    return events

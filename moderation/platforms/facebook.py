"""Facebook Pages (README §2): poll /{page}/feed then /{post}/comments?filter=stream&since=
(the recent posts every round, older ones swept a feed page at a time); webhooks field
"feed"; hide/unhide/delete/block/reply with a Page access token."""

from __future__ import annotations

import time

from moderation.platforms.base import MAX_PAGES_PER_POLL, FetchResult, NotSupported, WebhookEvent, parse_time
from moderation.platforms.meta import GraphClient
from moderation.services import IncomingComment

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
    return IncomingComment(
        external_id=str(item.get("id", "")),
        text=str(item.get("message", "")),
        author_external_id=str(author.get("id", "")),
        author_name=str(author.get("name", "")),
        parent_external_id=str(parent),
        thread_external_id=post_id,
        created_upstream=parse_time(item.get("created_time")),
        permalink=str(item.get("permalink_url", "")),
        raw=item,
        # The Page's own replies come back too: stored for the thread, never moderated.
        is_own=str(author.get("id", "")) == page_id,
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
        posts: ``_sweep_older``."""
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
        older = dict(cursor.get("older") or {})
        handed = {k: v for k, v in marks.items() if k not in set(ids)}
        if handed and ids:
            older_marks = dict(older.get("marks") or {})
            for post_id, mark in handed.items():
                previous = older_marks.get(post_id)
                older_marks[post_id] = [min(mark, int(previous[0])) if previous else mark, now]
            older["marks"] = older_marks
            marks = {k: v for k, v in marks.items() if k in set(ids)}
        older, read = self._sweep_older(older, recent_after, [budget[0] + OLDER_PAGES_PER_POLL], now=now)
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

    def _sweep_older(self, older: dict, recent_after: str | None, budget: list[int], *, now: int):
        """Comments on posts older than the recent ones, a bounded step per poll. State:
        ``since`` (comments from then on are wanted: the start of the previous lap, or of
        the first poll: history before connecting is not read for old posts), ``lap`` (when
        this lap began), ``after`` (feed cursor of the next page; none = the page after the
        recent posts), ``queue`` (this page's posts still to read), ``mark`` (progress in
        the first of them), ``depth`` (posts done this lap), ``end`` (no page follows),
        ``marks`` (posts that left the recent ones: [their own mark, when handed over]; a
        post is read from the older of its mark and ``since``, and its entry dropped once
        read). A lap ends at the end of the feed or after OLDER_POSTS_MAX posts; the next
        one asks for comments since this one began, so none created during it is missed."""
        if "since" not in older:
            older = {**older, "since": now, "lap": now}
        marks = dict(older.get("marks") or {})
        comments: list[IncomingComment] = []
        while budget[0] > 0 and not self.usage_backoff:
            queue = older.get("queue") or []
            if not queue:
                after = older.get("after") or (None if older.get("end") else recent_after)
                if after is None or int(older.get("depth", 0)) >= OLDER_POSTS_MAX:
                    # Lap over; the next starts next poll. A mark handed over during this lap
                    # may be of a post the lap had already passed: the next lap reads it.
                    # Older ones were passed by this whole lap (or lie beyond its depth, or
                    # were deleted), so the marks stay bounded by two laps' new posts.
                    kept = {k: v for k, v in marks.items() if int(v[1]) >= int(older["lap"])}
                    return {"since": older["lap"], "lap": now, **({"marks": kept} if kept else {})}, comments
                budget[0] -= 1
                page = self._json(self.request("GET", f"{self.account_id}/feed",
                                               params={"fields": "id", "limit": OLDER_POSTS_PAGE, "after": after}))
                paging = page.get("paging") or {}
                has_next = bool(paging.get("next") and (paging.get("cursors") or {}).get("after"))
                older.update(queue=[str(p.get("id")) for p in page.get("data") or []],
                             after=(paging.get("cursors") or {}).get("after") if has_next else None, end=not has_next)
                if not older["queue"]:
                    older["after"], older["end"] = None, True
                continue
            since = int(older["since"])
            if queue[0] in marks:
                since = min(since, int(marks[queue[0]][0]))
            read, mark, finished = self._post_comments(queue[0], int(older.get("mark") or since), budget)
            comments += read
            if not finished:
                older["mark"] = mark
                break
            marks.pop(queue[0], None)
            older.update(queue=queue[1:], mark=None, depth=int(older.get("depth", 0)) + 1)
        older["marks"] = marks
        return {k: v for k, v in older.items() if v not in (None, {})}, comments

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


def parse_page_webhook(payload: dict) -> list[WebhookEvent]:
    """object "page", field "feed", item "comment" (README §2.2): add/edited -> upsert,
    remove -> delete, hide/unhide -> the comment's upstream hidden state."""
    events = []
    for entry in payload.get("entry") or []:
        page_id = str(entry.get("id", ""))
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
            events.append(WebhookEvent("facebook", page_id, "upsert", comment=IncomingComment(
                external_id=comment_id,
                text=str(value.get("message", "")),
                author_external_id=author_id,
                author_name=str(author.get("name") or value.get("sender_name") or ""),
                # parent_id == post_id for top-level comments (README §2.2).
                parent_external_id="" if parent_id == post_id else parent_id,
                thread_external_id=post_id,
                created_upstream=parse_time(value.get("created_time")),
                raw=value,
                is_own=author_id == page_id,
            )))
    return events

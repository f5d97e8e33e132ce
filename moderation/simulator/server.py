"""The simulator's HTTP server: each platform's contract (../shared/platforms/README.md) for
the endpoints we use, plus a small control API under /_sim/ for tests and demos.

    /facebook/v25.0/...   Graph API for a Page          /instagram/v25.0/...  Graph API for IG
    /youtube/v3/...       YouTube Data API v3           /x/2/...              X API v2

    POST /_sim/accounts   {"platform", "account_id", "token"}
    POST /_sim/comments   {"platform", "account_id", "text", ["author_id", "parent_id"]}
    POST /_sim/faults     {"platform", "kind": throttle|expired|outage, ["count", "retry_after"]}
    DELETE /_sim/faults   clear all faults
    GET  /_sim/comments?platform=&id=   one comment's state (hidden, deleted, moderation status)
    POST /_sim/tokens     {"platform", "account_id", "access_token", ["refresh_token", "expires_in"]}
    POST /_sim/tokens/expire  {"platform", "account_id"}     POST /_sim/tokens/revoke  (same)

OAuth token endpoints (point the *_TOKEN_URL settings here):
    POST /google/token                   Google: grant_type=refresh_token, client_id, client_secret
    POST /x/2/oauth2/token               X: grant_type=refresh_token (rotating, single-use)
    GET  /instagram/refresh_access_token Instagram Login: grant_type=ig_refresh_token
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from moderation.simulator.world import SimComment, World

PREFIXES = {"facebook": "facebook/v25.0", "instagram": "instagram/v25.0", "youtube": "youtube/v3", "x": "x/2"}
TOKEN_PATHS = {"google/token": "youtube", "x/2/oauth2/token": "x", "instagram/refresh_access_token": "instagram"}


def _iso(ts: float, *, meta: bool = False, ms: bool = False) -> str:
    t = time.gmtime(ts)
    if meta:
        return time.strftime("%Y-%m-%dT%H:%M:%S+0000", t)
    if ms:
        return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{int(ts % 1 * 1000):03d}Z"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", t)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode().split(":", 1)[1])
    except (ValueError, IndexError):
        return -1


class Reply(Exception):
    def __init__(self, status: int, body=None, headers: dict | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def _graph_error(code: int, message: str, status: int = 400, subcode: int | None = None, headers=None) -> Reply:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AsimTrace0001"}
    if subcode:
        error["error_subcode"] = subcode
    return Reply(status, {"error": error}, headers)


def _google_error(status: int, reason: str, message: str, domain: str = "youtube.commentThread") -> Reply:
    return Reply(status, {"error": {"code": status, "message": message,
                                    "errors": [{"message": message, "domain": domain, "reason": reason}]}})


def _problem(status: int, title: str, headers=None) -> Reply:
    return Reply(status, {"title": title, "detail": title, "type": "about:blank", "status": status}, headers)


def fault_reply(platform: str, fault: dict) -> Reply:
    kind, retry_after = fault["kind"], int(fault.get("retry_after") or 60)
    if platform in ("facebook", "instagram"):
        if kind == "throttle":
            usage = {"simulated": [{"type": "pages" if platform == "facebook" else "instagram", "call_count": 100,
                                    "total_cputime": 30, "total_time": 40,
                                    "estimated_time_to_regain_access": max(1, math.ceil(retry_after / 60))}]}
            return _graph_error(4 if platform == "facebook" else 80002, "(#4) Application request limit reached",
                                headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
        if kind == "expired":
            return _graph_error(190, "Error validating access token: Session has expired on Saturday, 14-Mar-26 10:00:00 PDT.",
                                subcode=463)
        return _graph_error(2, "An unexpected error has occurred. Please retry your request later.", status=503)
    if platform == "youtube":
        if kind == "throttle":
            return _google_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.",
                                 domain="youtube.quota")
        if kind == "expired":
            return _google_error(401, "authError", "invalid_grant: Token has been expired or revoked.", domain="global")
        return _google_error(503, "backendError", "Backend Error", domain="global")
    if kind == "throttle":
        return _problem(429, "Too Many Requests", {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
                                                   "x-rate-limit-reset": str(int(time.time()) + retry_after)})
    if kind == "expired":
        return _problem(401, "Unauthorized")
    return _problem(503, "Service Unavailable")


class Handler(BaseHTTPRequestHandler):
    world: World  # set on the server subclass
    protocol_version = "HTTP/1.1"
    # Send each response at once (TCP_NODELAY). With Nagle's algorithm on, a keep-alive
    # response written in two parts waited ~40 ms for the client's delayed ACK: a real
    # platform answers in a few ms, and that wait was most of a bench poll.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # quiet: the demo's console is busy enough
        pass

    # -- plumbing --------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        form: dict = {}
        if raw and "json" in (self.headers.get("Content-Type") or ""):
            try:
                form = json.loads(raw)
            except ValueError:
                form = {}
        elif raw:
            form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        path = parts.path.strip("/")
        try:
            if path.startswith("_sim/"):
                raise Reply(*self._control(method, path[5:], query, form))
            if path in TOKEN_PATHS:
                platform = TOKEN_PATHS[path]
                self.world.log(platform, method, "oauth2/token")
                raise Reply(*self._token_endpoint(platform, method, {**query, **form}))
            for platform, prefix in PREFIXES.items():
                if path == prefix or path.startswith(prefix + "/"):
                    rest = path[len(prefix):].strip("/")
                    self.world.log(platform, method, rest)
                    fault = self.world.take_fault(platform)
                    if fault:
                        raise fault_reply(platform, fault)
                    handler = getattr(self, f"_{platform}")
                    raise Reply(*handler(method, rest.split("/") if rest else [], {**query, **form}))
            raise Reply(404, {"error": "unknown path"})
        except Reply as reply:
            self._send(reply)

    def _send(self, reply: Reply) -> None:
        body = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _token(self) -> str:
        auth = self.headers.get("Authorization") or ""
        return auth[7:] if auth.startswith("Bearer ") else ""

    def _require(self, platform: str, account) -> None:
        if account is None:
            raise self._not_found(platform)
        if self._token() != account.token or self.world.token_expired(account):
            raise fault_reply(platform, {"kind": "expired"})

    # -- OAuth token endpoints (README §4.4, §5.5, §3.1) ------------------------------------
    def _client_ok(self, platform: str, params) -> bool:
        expected = self.world.oauth_clients.get(platform)
        if expected is None:
            return True
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return False
        else:
            client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
        return (client_id, secret) == expected

    def _token_endpoint(self, platform, method, params):
        w = self.world
        if platform == "instagram":
            if method != "GET" or params.get("grant_type") != "ig_refresh_token":
                raise _graph_error(100, "Unsupported request: grant_type must be ig_refresh_token")
            if w.token_hook:
                w.token_hook(platform)
            account = w.renew("instagram", self._token() or params.get("access_token", ""))
            if account is None:
                raise _graph_error(190, "Error validating access token: Session has expired.", subcode=463)
            return 200, {"access_token": account.token, "token_type": "bearer",
                         "expires_in": w.token_lifetimes["instagram"]}
        if method != "POST" or params.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant_type must be refresh_token"}
        if not self._client_ok(platform, params):
            return 401, {"error": "invalid_client" if platform == "youtube" else "unauthorized_client",
                         "error_description": "The OAuth client was not found."}
        if w.token_hook:
            w.token_hook(platform)
        issued = w.refresh(platform, params.get("refresh_token", ""))
        if issued is None:
            if platform == "youtube":
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            return 400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}
        _, access, refresh = issued
        body = {"access_token": access, "token_type": "bearer" if platform == "x" else "Bearer",
                "expires_in": w.token_lifetimes[platform]}
        if platform == "youtube":
            body["scope"] = "https://www.googleapis.com/auth/youtube.force-ssl"
        else:
            body.update(scope="tweet.read users.read tweet.write tweet.moderate.write offline.access",
                        refresh_token=refresh)
        return 200, body

    def _not_found(self, platform: str) -> Reply:
        if platform in ("facebook", "instagram"):
            return _graph_error(100, "Unsupported get request. Object does not exist or cannot be loaded.")
        if platform == "youtube":
            return _google_error(404, "commentNotFound", "The comment could not be found.")
        return _problem(404, "Not Found")

    # -- control ---------------------------------------------------------------------------
    def _control(self, method, path, query, form):
        w = self.world
        if path == "accounts" and method == "POST":
            w.add_account(form["platform"], form["account_id"], form["token"])
            return 201, {"ok": True}
        if path == "comments" and method == "POST":
            c = w.add_comment(form["platform"], form["account_id"], form["text"], author_id=form.get("author_id"),
                              author_name=form.get("author_name", ""), parent_id=form.get("parent_id", ""))
            return 201, {"id": c.id, "thread_id": c.thread_id}
        if path == "comments" and method == "GET":
            _, c = w.find_comment(query.get("platform", ""), query.get("id", ""))
            if c is None:
                return 404, {"error": "no such comment"}
            return 200, {"id": c.id, "text": c.text, "hidden": c.hidden, "deleted": c.deleted,
                         "moderation_status": c.moderation_status}
        if path == "tokens" and method == "POST":
            expires_in = form.get("expires_in")
            w.set_tokens(form["platform"], form["account_id"], access=form["access_token"],
                         refresh=form.get("refresh_token", ""), expires_in=None if expires_in is None else float(expires_in))
            return 201, {"ok": True}
        if path in ("tokens/expire", "tokens/revoke") and method == "POST":
            (w.expire_token if path.endswith("expire") else w.revoke)(form["platform"], form["account_id"])
            return 200, {"ok": True}
        if path == "faults" and method == "POST":
            w.set_fault(form["platform"], form["kind"], count=form.get("count"), retry_after=int(form.get("retry_after", 60)))
            return 201, {"ok": True}
        if path == "faults" and method == "DELETE":
            w.clear_faults(query.get("platform"))
            return 200, {"ok": True}
        return 404, {"error": "unknown control path"}

    # -- Facebook (README §2) --------------------------------------------------------------
    def _facebook(self, method, segs, params):
        return self._graph("facebook", method, segs, params)

    def _instagram(self, method, segs, params):
        return self._graph("instagram", method, segs, params)

    def _graph(self, platform, method, segs, params):
        w = self.world
        if not segs:
            raise self._not_found(platform)
        node, edge = segs[0], (segs[1] if len(segs) > 1 else "")
        account = w.account(platform, node)
        if account is not None:  # the Page / IG user
            self._require(platform, account)
            if method == "GET" and edge in ("feed", "published_posts", "media"):
                limit = min(int(params.get("limit", 25)), 100)  # limit <= 100 (README §2.1)
                offset = _offset(params.get("after"))
                if offset < 0:
                    raise _graph_error(100, "Invalid cursor")
                with w.lock:
                    newest_first = list(reversed(account.threads))
                    created = dict(account.thread_created)
                threads = newest_first[offset: offset + limit]
                if platform == "instagram":
                    # Only the fields asked for, id by default, as Graph answers (README §3.2).
                    wanted = set(str(params.get("fields") or "id").split(","))
                    data = [{k: v for k, v in {"id": t, "permalink": f"https://www.instagram.com/p/{t}/",
                                               "timestamp": _iso(created.get(t, 0), meta=True)}.items()
                             if k == "id" or k in wanted} for t in threads]
                else:
                    data = [{"id": t} for t in threads]
                body = {"data": data, "paging": {"cursors": {"before": _cursor(offset), "after": _cursor(offset + len(threads))}}}
                if offset + limit < len(newest_first):
                    # Graph's next link repeats the query (fields, limit) with the new cursor.
                    fields = f"fields={params['fields']}&" if params.get("fields") else ""
                    body["paging"]["next"] = (f"http://{self.headers.get('Host')}/{PREFIXES[platform]}/{node}/{edge}"
                                              f"?{fields}limit={limit}&after={_cursor(offset + len(threads))}")
                return 200, body, self._usage(platform)
            if platform == "facebook" and edge == "blocked" and method == "POST":
                ids = []
                for key in ("asid", "psid", "uid", "user"):
                    if key in params:
                        value = params[key]
                        ids += json.loads(value) if isinstance(value, str) and value.startswith("[") else [value]
                with w.lock:
                    account.blocked.update(str(i) for i in ids)
                return 200, {str(i): True for i in ids}, self._usage(platform)
            raise _graph_error(100, f"Unknown edge {edge}")
        account = w.account_for_thread(platform, node)
        if account is not None:  # a post / media
            self._require(platform, account)
            if method == "GET" and edge == "comments":
                return self._graph_comments(platform, account, node, params)
            raise _graph_error(100, f"Unsupported {method} on {edge}")
        account, comment = w.find_comment(platform, node)
        if comment is None or comment.deleted:
            raise self._not_found(platform)
        self._require(platform, account)
        if method == "POST" and not edge:
            key = "is_hidden" if platform == "facebook" else "hide"
            if key not in params:
                raise _graph_error(100, f"(#100) Missing {key}")
            with w.lock:
                comment.hidden = str(params[key]).lower() == "true"
            return 200, {"success": True}, self._usage(platform)
        if method == "DELETE" and not edge:
            with w.lock:
                comment.deleted = True
            return 200, {"success": True}, self._usage(platform)
        if method == "POST" and edge in ("comments", "replies"):
            message = params.get("message", "")
            if not message:
                raise _graph_error(100, "(#100) Missing message")
            if platform == "instagram" and comment.hidden:
                raise _graph_error(100, "Cannot reply to a hidden comment")
            reply = w.add_comment(platform, account.account_id, message, author_id=account.account_id,
                                  author_name="NHS Lincolnshire ICB", parent_id=comment.id)
            return 200, {"id": reply.id}, self._usage(platform)
        if method == "GET" and edge in ("comments", "replies"):
            return self._graph_comments(platform, account, comment.thread_id, params, parent=comment.id)
        raise _graph_error(100, f"Unsupported {method} on {edge or 'comment'}")

    def _usage(self, platform):
        return {"X-App-Usage": json.dumps({"call_count": 3, "total_cputime": 1, "total_time": 2})}

    def _graph_comments(self, platform, account, thread_id, params, parent: str | None = None):
        limit = min(int(params.get("limit", 25)), 100)
        offset = _offset(params.get("after"))
        if offset < 0:
            raise _graph_error(100, "Invalid cursor")
        with self.world.lock:
            rows = [c for c in account.comments if c.thread_id == thread_id and not c.deleted]
        if platform == "facebook":
            since = float(params.get("since") or 0)
            rows = [c for c in rows if c.created >= since and (params.get("filter") == "stream" or not c.parent_id)]
            if params.get("order") == "reverse_chronological":
                rows.reverse()
            page = rows[offset: offset + limit]
            data = [self._fb_comment(c) for c in page]
        else:
            if parent:
                rows = [c for c in rows if c.parent_id == parent]
            else:
                rows = [c for c in rows if not c.parent_id]
            rows.reverse()  # Instagram: newest first
            page = rows[offset: offset + limit]
            with self.world.lock:
                data = [self._ig_comment(c, account) for c in page]
        body = {"data": data, "paging": {"cursors": {"before": _cursor(offset), "after": _cursor(offset + len(page))}}}
        if offset + limit < len(rows):
            body["paging"]["next"] = f"http://{self.headers.get('Host')}/{PREFIXES[platform]}/{thread_id}/comments?after={_cursor(offset + len(page))}"
        return 200, body, self._usage(platform)

    @staticmethod
    def _fb_comment(c: SimComment) -> dict:
        out = {"id": c.id, "message": c.text, "from": {"id": c.author_id, "name": c.author_name},
               "created_time": _iso(c.created, meta=True),
               "permalink_url": f"https://www.facebook.com/{c.account_id}/posts/{c.thread_id.split('_')[-1]}/?comment_id={c.id.split('_')[-1]}",
               "is_hidden": c.hidden, "can_hide": True, "comment_count": 0, "like_count": 0}
        if c.parent_id:
            out["parent"] = {"id": c.parent_id}
        return out

    @staticmethod
    def _ig_comment(c: SimComment, account) -> dict:
        out = {"id": c.id, "text": c.text, "timestamp": _iso(c.created, meta=True), "username": c.author_name,
               "from": {"id": c.author_id, "username": c.author_name}, "like_count": 0, "hidden": c.hidden}
        if c.parent_id:
            out["parent_id"] = c.parent_id
        else:
            replies = [r for r in account.comments if r.parent_id == c.id and not r.deleted]
            if replies:
                out["replies"] = {"data": [Handler._ig_comment(r, account) for r in replies]}
        return out

    # -- YouTube (README §4) ---------------------------------------------------------------
    def _youtube(self, method, segs, params):
        w = self.world
        resource = "/".join(segs)
        if resource == "commentThreads" and method == "GET":
            account = w.account("youtube", params.get("allThreadsRelatedToChannelId", ""))
            if account is None:
                raise _google_error(404, "channelNotFound", "The channel could not be found.")
            self._require("youtube", account)
            limit = min(int(params.get("maxResults", 20)), 100)
            offset = _offset(params.get("pageToken"))
            if offset < 0:
                raise _google_error(400, "invalidPageToken", "The page token is invalid.")
            with w.lock:
                tops = [c for c in reversed(account.comments) if not c.parent_id and c.moderation_status != "rejected"]
                page = tops[offset: offset + limit]
                items = []
                for c in page:
                    replies = [r for r in account.comments if r.parent_id == c.id and r.moderation_status != "rejected"]
                    thread = {"kind": "youtube#commentThread", "id": c.id, "snippet": {
                        "channelId": account.account_id, "videoId": c.thread_id, "topLevelComment": self._yt_comment(c),
                        "canReply": True, "totalReplyCount": len(replies), "isPublic": True}}
                    if replies:  # the API returns only a subset inline
                        thread["replies"] = {"comments": [self._yt_comment(r) for r in replies[:5]]}
                    items.append(thread)
            body = {"kind": "youtube#commentThreadListResponse", "pageInfo": {"totalResults": len(tops), "resultsPerPage": limit},
                    "items": items}
            if offset + limit < len(tops):
                body["nextPageToken"] = _cursor(offset + limit)
            return 200, body
        if resource == "comments" and method == "GET":
            account, parent = w.find_comment("youtube", params.get("parentId", ""))
            if parent is None:
                raise _google_error(404, "commentNotFound", "The comment could not be found.")
            self._require("youtube", account)
            limit = min(int(params.get("maxResults", 20)), 100)
            offset = _offset(params.get("pageToken"))
            with w.lock:
                replies = [r for r in account.comments if r.parent_id == parent.id and r.moderation_status != "rejected"]
            body = {"kind": "youtube#commentListResponse", "items": [self._yt_comment(r) for r in replies[offset: offset + limit]]}
            if offset + limit < len(replies):
                body["nextPageToken"] = _cursor(offset + limit)
            return 200, body
        if resource == "comments/setModerationStatus" and method == "POST":
            status = params.get("moderationStatus")
            if status not in ("heldForReview", "published", "rejected"):
                raise _google_error(400, "invalidModerationStatus", "Invalid moderation status.")
            if params.get("banAuthor") == "true" and status != "rejected":
                raise _google_error(400, "banWithoutReject", "banAuthor can only be used with rejected.")
            for cid in str(params.get("id", "")).split(","):
                account, comment = w.find_comment("youtube", cid)
                if comment is None:
                    raise _google_error(404, "commentNotFound", "The comment could not be found.")
                self._require("youtube", account)
                with w.lock:
                    if comment.moderation_status == "rejected" and status == "published":
                        raise _google_error(400, "operationNotSupported", "A rejected comment cannot be published.")
                    comment.moderation_status = status
                    if params.get("banAuthor") == "true":
                        account.banned.add(comment.author_id)
            return 204, None
        if resource == "comments" and method == "POST":
            snippet = params.get("snippet") or {}
            account, parent = w.find_comment("youtube", snippet.get("parentId", ""))
            if parent is None:
                raise _google_error(404, "commentNotFound", "The parent comment could not be found.")
            self._require("youtube", account)
            if not snippet.get("textOriginal"):
                raise _google_error(400, "commentTextRequired", "The comment text is required.")
            reply = w.add_comment("youtube", account.account_id, snippet["textOriginal"], author_id=account.account_id,
                                  author_name="NHS Lincolnshire ICB", parent_id=parent.id)
            return 200, self._yt_comment(reply)
        raise _google_error(404, "notFound", f"Unknown {method} {resource}", domain="global")

    @staticmethod
    def _yt_comment(c: SimComment) -> dict:
        snippet = {"channelId": c.account_id, "videoId": c.thread_id, "textDisplay": c.text, "textOriginal": c.text,
                   "authorDisplayName": c.author_name, "authorChannelId": {"value": c.author_id},
                   "canRate": True, "viewerRating": "none", "likeCount": 0,
                   "publishedAt": _iso(c.created), "updatedAt": _iso(c.updated or c.created)}
        if c.parent_id:
            snippet["parentId"] = c.parent_id
        return {"kind": "youtube#comment", "id": c.id, "snippet": snippet}

    # -- X (README §5) ---------------------------------------------------------------------
    def _x(self, method, segs, params):
        w = self.world
        if len(segs) == 3 and segs[0] == "users" and segs[2] == "mentions" and method == "GET":
            account = w.account("x", segs[1])
            if account is None:
                raise _problem(404, "Not Found")
            self._require("x", account)
            limit = max(5, min(int(params.get("max_results", 10)), 100))
            since_id = int(params.get("since_id") or 0)
            with w.lock:
                rows = [c for c in reversed(account.comments)
                        if c.author_id != account.account_id and int(c.id) > since_id and not c.deleted]
            offset = _offset(params.get("pagination_token"))
            page = rows[offset: offset + limit]
            users = {c.author_id: {"id": c.author_id, "username": c.author_name.replace(" ", "_").lower(), "name": c.author_name}
                     for c in page}
            body = {"data": [{"id": c.id, "text": c.text, "edit_history_tweet_ids": [c.id], "author_id": c.author_id,
                              "conversation_id": c.thread_id, "in_reply_to_user_id": account.account_id,
                              "referenced_tweets": [{"type": "replied_to", "id": c.parent_id}] if c.parent_id else [],
                              "created_at": _iso(c.created, ms=True)} for c in page],
                    "includes": {"users": list(users.values())},
                    "meta": {"result_count": len(page)}}
            if page:
                body["meta"].update(newest_id=rows[0].id if offset == 0 else page[0].id, oldest_id=page[-1].id)
            else:
                del body["data"]
            if offset + limit < len(rows):
                body["meta"]["next_token"] = _cursor(offset + limit)
            headers = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449",
                       "x-rate-limit-reset": str(int(time.time()) + 900)}
            return 200, body, headers
        if len(segs) == 3 and segs[0] == "tweets" and segs[2] == "hidden" and method == "PUT":
            account, comment = w.find_comment("x", segs[1])
            if comment is None or comment.deleted:
                raise _problem(404, "Not Found")
            self._require("x", account)
            root = account.by_id.get(comment.thread_id)
            if root is None or root.author_id != account.account_id:
                raise _problem(403, "You can only hide replies in conversations you started")
            with w.lock:
                comment.hidden = bool(params.get("hidden"))
            return 200, {"data": {"hidden": comment.hidden}}
        if segs == ["tweets"] and method == "POST":
            target = (params.get("reply") or {}).get("in_reply_to_tweet_id", "")
            account, parent = w.find_comment("x", target)
            if parent is None:
                raise _problem(400, "Invalid Request")
            self._require("x", account)
            reply = w.add_comment("x", account.account_id, params.get("text", ""), author_id=account.account_id,
                                  author_name="NHSLincsICB", parent_id=parent.id, thread_id=parent.thread_id)
            return 201, {"data": {"id": reply.id, "text": reply.text, "edit_history_tweet_ids": [reply.id]}}
        if len(segs) == 3 and segs[0] == "users" and segs[2] in ("muting", "blocking") and method == "POST":
            account = w.account("x", segs[1])
            if account is None:
                raise _problem(404, "Not Found")
            self._require("x", account)
            if segs[2] == "blocking":  # Enterprise-only (README §5.3): an ordinary app is refused
                raise _problem(403, "Forbidden: blocking requires an Enterprise plan")
            target = str(params.get("target_user_id") or "")
            if not target:
                raise _problem(400, "Invalid Request")
            with w.lock:
                account.muted.add(target)
            return 200, {"data": {"muting": True}}
        if len(segs) == 4 and segs[0] == "users" and segs[2] == "muting" and method == "DELETE":
            account = w.account("x", segs[1])
            if account is None:
                raise _problem(404, "Not Found")
            self._require("x", account)
            with w.lock:
                account.muted.discard(segs[3])
            return 200, {"data": {"muting": False}}
        if len(segs) == 2 and segs[0] == "tweets" and method == "DELETE":
            account, comment = w.find_comment("x", segs[1])
            if comment is None:
                raise _problem(404, "Not Found")
            self._require("x", account)
            if comment.author_id != account.account_id:
                raise _problem(403, "You are not allowed to delete this Tweet")
            comment.deleted = True
            return 200, {"data": {"deleted": True}}
        raise _problem(404, "Not Found")


class SimulatorServer:
    """Run the simulator on 127.0.0.1:port (0 = a free port) in a background thread."""

    def __init__(self, *, port: int = 0, world: World | None = None):
        self.world = world or World()
        handler = type("BoundHandler", (Handler,), {"world": self.world})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def url(self, platform: str) -> str:
        return f"{self.base}/{PREFIXES[platform]}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

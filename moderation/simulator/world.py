"""The simulator's in-memory state: accounts, threads, comments, faults, a request log.

Thread-safe (one lock): the HTTP server is threaded and the traffic generator runs beside it.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass, field

# The demo channels of moderation/management/commands/seed_demo.py; tokens are demo-only.
DEMO_ACCOUNTS = [
    ("facebook", "104857600123456", "demo-facebook-token"),
    ("instagram", "17841400000000001", "demo-instagram-token"),
    ("youtube", "UCdemoLincsICB000000001", "demo-youtube-token"),
    ("x", "98765432", "demo-x-token"),
]
# Demo platforms whose OAuth tokens expire and are refreshed (README: YouTube ~1 h, X 2 h).
DEMO_REFRESHABLE = ("youtube", "x")
FAULT_KINDS = ("throttle", "expired", "outage")
# Access token lifetimes the platforms document (README §4.4, §5.5, §3.1), in seconds.
TOKEN_LIFETIMES = {"youtube": 3600, "x": 7200, "instagram": 60 * 24 * 3600}


@dataclass
class SimComment:
    id: str
    platform: str
    account_id: str
    thread_id: str  # post / media / video / conversation root
    author_id: str
    author_name: str
    text: str
    created: float
    parent_id: str = ""
    updated: float | None = None  # the last edit (YouTube's updatedAt)
    hidden: bool = False
    deleted: bool = False
    moderation_status: str = "published"  # YouTube: published | heldForReview | rejected


@dataclass
class Account:
    platform: str
    account_id: str
    token: str
    threads: list[str] = field(default_factory=list)  # newest last
    thread_created: dict[str, float] = field(default_factory=dict)  # thread id -> unix time posted
    comments: list[SimComment] = field(default_factory=list)  # in creation order
    by_id: dict[str, SimComment] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    banned: set[str] = field(default_factory=set)
    muted: set[str] = field(default_factory=set)  # X: the fallback for blocking
    # OAuth (README §4.4, §5.5, §3.1): the access token stops working at ``token_expires``
    # (None: never); ``refresh_token`` buys a new one at the token endpoint. X rotates it.
    refresh_token: str = ""
    token_expires: float | None = None
    refreshes: int = 0  # successful refreshes, for tests and the demo's log
    spent_refresh_tokens: set[str] = field(default_factory=set)


class World:
    def __init__(self, *, seed: int | None = None):
        self.lock = threading.RLock()
        self.accounts: dict[tuple[str, str], Account] = {}
        self.faults: dict[str, list[dict]] = {}
        self.requests: list[tuple[str, str, str]] = []  # (platform, method, path)
        self.random = random.Random(seed)
        # Ids start from the clock so two runs against one database never collide (the
        # console's comments are unique on platform + external id, as on the real platforms).
        self._ids = itertools.count(int(time.time() * 1000) % 10**11)
        # Time of the newest comment handed out, so ids/times are strictly increasing even
        # when many comments are added within one clock tick.
        self._last_time = 0.0
        # OAuth apps the token endpoints accept: platform -> (client id, client secret). A
        # platform not listed accepts any client (the demo).
        self.oauth_clients: dict[str, tuple[str, str]] = {}
        self.token_lifetimes = dict(TOKEN_LIFETIMES)
        # Called (outside the lock) by a token endpoint before it issues tokens: tests hold a
        # refresh there to prove a second refresher waits for the first.
        self.token_hook = None

    # --- accounts, threads, comments ------------------------------------------------------
    def add_account(self, platform: str, account_id: str, token: str) -> Account:
        with self.lock:
            account = self.accounts.get((platform, account_id))
            if account is None:
                account = self.accounts[(platform, account_id)] = Account(platform, account_id, token)
            account.token = token
            return account

    def account(self, platform: str, account_id: str) -> Account | None:
        return self.accounts.get((platform, account_id))

    def account_for_thread(self, platform: str, thread_id: str) -> Account | None:
        with self.lock:
            for (p, _), account in self.accounts.items():
                if p == platform and thread_id in account.threads:
                    return account
        return None

    def find_comment(self, platform: str, comment_id: str) -> tuple[Account, SimComment] | tuple[None, None]:
        with self.lock:
            for (p, _), account in self.accounts.items():
                if p == platform and comment_id in account.by_id:
                    return account, account.by_id[comment_id]
        return None, None

    def _next_id(self) -> int:
        return next(self._ids)

    def _now(self, at: float | None) -> float:
        if at is not None:
            return at  # a backlog with explicit times (tests, the demo's first morning)
        # Strictly increasing, one microsecond apart, so ordering is total.
        now = max(time.time(), self._last_time + 1e-6)
        self._last_time = now
        return now

    def new_thread(self, platform: str, account_id: str) -> str:
        with self.lock:
            account = self.accounts[(platform, account_id)]
            n = self._next_id()
            thread_id = {
                "facebook": f"{account_id}_{122100000000000000 + n}",
                "instagram": f"{17950000000000000 + n}",
                "youtube": f"vid{n:08d}",
                "x": f"{1900000000000000000 + n}",
            }[platform]
            account.threads.append(thread_id)
            account.thread_created[thread_id] = self._now(None)
            if platform == "x":
                # A conversation root is our own post; replies to it are what we moderate.
                self._add(account, thread_id, author_id=account_id, author_name="NHS Lincolnshire ICB",
                          text="Our new urgent treatment centre opens on Monday.", comment_id=thread_id, at=None)
            return thread_id

    def add_comment(self, platform: str, account_id: str, text: str, *, author_id: str | None = None,
                    author_name: str = "", parent_id: str = "", thread_id: str | None = None,
                    at: float | None = None) -> SimComment:
        with self.lock:
            account = self.accounts[(platform, account_id)]
            if thread_id is None:
                if parent_id:
                    thread_id = account.by_id[parent_id].thread_id
                else:
                    thread_id = account.threads[-1] if account.threads else self.new_thread(platform, account_id)
            if author_id is None:
                n = self.random.randint(1, 400)
                author_id = {"facebook": f"88{n:014d}", "instagram": f"178414{n:011d}", "youtube": f"UCresident{n:014d}",
                             "x": f"14655{n:014d}"}[platform]
                author_name = author_name or f"Resident {n}"
            return self._add(account, thread_id, author_id=author_id, author_name=author_name or author_id,
                             text=text, parent_id=parent_id, at=at)

    def _add(self, account: Account, thread_id: str, *, author_id: str, author_name: str, text: str,
             parent_id: str = "", comment_id: str | None = None, at: float | None) -> SimComment:
        n = self._next_id()
        platform = account.platform
        if comment_id is None:
            if platform == "facebook":
                comment_id = f"{thread_id.split('_')[-1]}_{1187000000000000 + n}"
            elif platform == "instagram":
                comment_id = f"{17980000000000000 + n}"
            elif platform == "youtube":
                comment_id = f"{parent_id}.Ab{n:010d}" if parent_id else f"Ugz{n:018d}AaABAg"
            else:
                comment_id = f"{1900010000000000000 + n}"
        if platform == "x" and not parent_id and comment_id != thread_id:
            parent_id = thread_id  # X replies are to the conversation root
        comment = SimComment(id=comment_id, platform=platform, account_id=account.account_id, thread_id=thread_id,
                             author_id=author_id, author_name=author_name, text=text, created=self._now(at),
                             parent_id=parent_id)
        if platform == "youtube" and author_id in account.banned:
            comment.moderation_status = "rejected"
        account.comments.append(comment)
        account.by_id[comment.id] = comment
        return comment

    def edit_comment(self, platform: str, comment_id: str, text: str) -> SimComment:
        with self.lock:
            _, comment = self.find_comment(platform, comment_id)
            comment.text = text
            comment.updated = self._now(None)
            return comment

    # --- OAuth tokens ----------------------------------------------------------------------
    def set_tokens(self, platform: str, account_id: str, *, access: str, refresh: str = "",
                   expires_in: float | None = None) -> Account:
        with self.lock:
            account = self.accounts[(platform, account_id)]
            account.token, account.refresh_token = access, refresh
            account.token_expires = None if expires_in is None else time.time() + expires_in
            return account

    def expire_token(self, platform: str, account_id: str) -> None:
        """The access token's hour (or two) is up: calls with it answer 401 / code 190."""
        with self.lock:
            self.accounts[(platform, account_id)].token_expires = time.time() - 1

    def revoke(self, platform: str, account_id: str) -> None:
        """The person withdrew our access: the access and refresh tokens stop working."""
        with self.lock:
            account = self.accounts[(platform, account_id)]
            account.spent_refresh_tokens.add(account.refresh_token)
            account.refresh_token = ""
            account.token_expires = time.time() - 1

    def token_expired(self, account: Account) -> bool:
        return account.token_expires is not None and time.time() >= account.token_expires

    def refresh(self, platform: str, refresh_token: str) -> tuple[Account, str, str] | None:
        """Spend ``refresh_token``: (account, new access token, refresh token to hand back
        or "" when not rotated), or None when it is unknown, revoked or already spent."""
        with self.lock:
            for (p, _), account in self.accounts.items():
                if p == platform and refresh_token and account.refresh_token == refresh_token:
                    break
            else:
                return None
            n = self._next_id()
            account.token = {"youtube": f"ya29.sim-{n}", "x": f"x-sim-access-{n}"}.get(platform, f"IGsim{n}")
            account.token_expires = time.time() + self.token_lifetimes[platform]
            account.refreshes += 1
            if platform != "x":
                return account, account.token, ""
            # X: single-use, rotating (README §5.5).
            account.spent_refresh_tokens.add(refresh_token)
            account.refresh_token = f"x-sim-refresh-{n}"
            return account, account.token, account.refresh_token

    def renew(self, platform: str, access_token: str) -> Account | None:
        """Instagram Login: a valid long-lived token buys a fresh 60 days."""
        with self.lock:
            for (p, _), account in self.accounts.items():
                if p == platform and account.token == access_token and not self.token_expired(account):
                    account.token = f"IGsim{self._next_id()}"
                    account.token_expires = time.time() + self.token_lifetimes[platform]
                    account.refreshes += 1
                    return account
        return None

    # --- faults ---------------------------------------------------------------------------
    def set_fault(self, platform: str, kind: str, *, count: int | None = None, retry_after: int = 60) -> None:
        """Make the next ``count`` calls (None: every call until cleared) fail with ``kind``."""
        assert kind in FAULT_KINDS, kind
        with self.lock:
            self.faults.setdefault(platform, []).append({"kind": kind, "count": count, "retry_after": retry_after})

    def clear_faults(self, platform: str | None = None) -> None:
        with self.lock:
            if platform is None:
                self.faults.clear()
            else:
                self.faults.pop(platform, None)

    def take_fault(self, platform: str) -> dict | None:
        with self.lock:
            queue = self.faults.get(platform) or []
            while queue:
                fault = queue[0]
                if fault["count"] is None:
                    return fault
                if fault["count"] > 0:
                    fault["count"] -= 1
                    if fault["count"] == 0:
                        queue.pop(0)
                    return fault
                queue.pop(0)
            return None

    def log(self, platform: str, method: str, path: str) -> None:
        with self.lock:
            self.requests.append((platform, method, path))
            if len(self.requests) > 10000:
                del self.requests[:5000]

    def seed_demo(self, *, token_lifetime: float | None = None) -> None:
        """The demo accounts; YouTube's and X's tokens expire after ``token_lifetime`` seconds
        and are refreshed with seed_demo's refresh tokens (``demo-<platform>-refresh``)."""
        for platform, account_id, token in DEMO_ACCOUNTS:
            self.add_account(platform, account_id, token)
            if platform in DEMO_REFRESHABLE and token_lifetime:
                self.token_lifetimes[platform] = token_lifetime
                self.set_tokens(platform, account_id, access=token, refresh=f"demo-{platform}-refresh",
                                expires_in=token_lifetime)
            self.new_thread(platform, account_id)

"""Every platform client against the simulator over real HTTP: paging, cursors, own replies,
each supported action, and the error classes (throttle, token expiry, outage)."""

from __future__ import annotations

import time

import pytest

from moderation.platforms.base import AuthExpired, NotSupported, RateLimited, TransientError
from tests.moderation.platforms import fixtures
from tests.moderation.platforms.fixtures import ACCOUNTS, TOKENS, client

sim = fixtures.sim  # the simulator fixture, used by name below

PLATFORMS = ["facebook", "instagram", "youtube", "x"]


def _backlog(sim, platform, n, *, start):
    world = sim.world
    return [world.add_comment(platform, ACCOUNTS[platform], f"comment number {i}", at=start + i) for i in range(n)]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_fetch_follows_every_page_then_resumes_from_its_cursor(sim, platform):
    start = time.time() - 1000
    old = _backlog(sim, platform, 130, start=start)  # more than one page on every platform

    comments, cursor = client(platform).fetch_since({})
    assert sorted(c.external_id for c in comments) == sorted(c.id for c in old)
    assert {c.text for c in comments} == {f"comment number {i}" for i in range(130)}

    new = [sim.world.add_comment(platform, ACCOUNTS[platform], f"late {i}") for i in range(2)]
    again, _ = client(platform).fetch_since(cursor)
    ids = [c.external_id for c in again]
    # Time watermarks are inclusive (Facebook's `since`, Instagram/YouTube's timestamps): the
    # newest old comment may come again and the idempotent upsert ignores it. X uses ids.
    expected_extra = [] if platform == "x" else [old[-1].id]
    assert sorted(ids) == sorted([c.id for c in new] + expected_extra)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_normalised_fields_and_our_own_replies(sim, platform):
    world = sim.world
    top = world.add_comment(platform, ACCOUNTS[platform], "When does the clinic open?", author_id="user-1", author_name="Sam K")
    own = world.add_comment(platform, ACCOUNTS[platform], "Monday at 9, see you there", author_id=ACCOUNTS[platform],
                            author_name="NHS", parent_id=top.id)
    comments, _ = client(platform).fetch_since({})
    by_id = {c.external_id: c for c in comments}
    first = by_id[top.id]
    assert (first.text, first.author_external_id, first.is_own) == ("When does the clinic open?", "user-1", False)
    assert first.created_upstream is not None and first.raw["id"] == top.id
    if platform == "x":
        assert own.id not in by_id  # mentions never include our own posts
    else:
        reply = by_id[own.id]
        assert (reply.is_own, reply.parent_external_id) == (True, top.id)


@pytest.mark.parametrize(
    "platform,kind,check",
    [
        ("facebook", "hide", lambda c: c.hidden is True),
        ("facebook", "delete", lambda c: c.deleted is True),
        ("instagram", "hide", lambda c: c.hidden is True),
        ("instagram", "delete", lambda c: c.deleted is True),
        ("youtube", "hide", lambda c: c.moderation_status == "heldForReview"),
        ("youtube", "delete", lambda c: c.moderation_status == "rejected"),
        ("x", "hide", lambda c: c.hidden is True),
    ],
)
def test_actions_change_the_platforms_state(sim, platform, kind, check):
    comment = sim.world.add_comment(platform, ACCOUNTS[platform], "abusive words here")
    client(platform).apply(kind, comment_external_id=comment.id, author_external_id=comment.author_id)
    assert check(comment)


@pytest.mark.parametrize("platform", ["facebook", "instagram", "youtube", "x"])
def test_unhide_reverses_hide(sim, platform):
    comment = sim.world.add_comment(platform, ACCOUNTS[platform], "borderline")
    c = client(platform)
    c.apply("hide", comment_external_id=comment.id)
    c.apply("unhide", comment_external_id=comment.id)
    assert (comment.hidden, comment.moderation_status) == (False, "published")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_reply_posts_as_the_account(sim, platform):
    comment = sim.world.add_comment(platform, ACCOUNTS[platform], "How do I complain?")
    response = client(platform).apply("reply", comment_external_id=comment.id, payload={"message": "Please email us"})
    new_id = response["data"]["id"] if platform == "x" else response["id"]
    _, reply = sim.world.find_comment(platform, new_id)
    assert (reply.text, reply.author_id, reply.parent_id) == ("Please email us", ACCOUNTS[platform], comment.id)


def test_youtube_new_replies_on_older_threads_are_read(sim):
    world, channel = sim.world, ACCOUNTS["youtube"]
    start = time.time() - 10_000
    threads = _backlog(sim, "youtube", 150, start=start)  # two pages of threads: [149..50], [49..0]
    yt = client("youtube")
    _, cursor = yt.fetch_since({})
    assert len(cursor["threads"]) == 150

    # Replies after the round, on an old thread on page 1 and on one on page 2 (7 replies:
    # more than the 5 shown inline, so they must come from comments.list?parentId=).
    near = world.add_comment("youtube", channel, "reply on a recent thread", parent_id=threads[120].id)
    far = [world.add_comment("youtube", channel, f"late reply {i}", parent_id=threads[3].id) for i in range(7)]
    before = len(world.requests)
    comments, cursor = yt.fetch_since(cursor)
    # Page 1 is read anyway: its thread's count grew, its inline replies come in (with the
    # newest thread again: the watermark is inclusive).
    assert [c.external_id for c in comments] == [threads[-1].id, near.id]
    assert world.requests[before:] == [("youtube", "GET", "commentThreads")]

    # The scan (every REPLY_SCAN_SECONDS) reads page 2 too and pages through the replies.
    cursor["scanned_at"] -= 15 * 60
    before = len(world.requests)
    comments, cursor = yt.fetch_since(cursor)
    assert sorted(c.external_id for c in comments) == sorted([threads[-1].id] + [r.id for r in far])
    assert world.requests[before:] == [("youtube", "GET", "commentThreads"), ("youtube", "GET", "commentThreads"),
                                       ("youtube", "GET", "comments")]
    # Counted now: neither thread's replies are read again.
    cursor["scanned_at"] -= 15 * 60
    assert [c.external_id for c in yt.fetch_since(cursor).comments] == [threads[-1].id]


def test_youtube_replies_beyond_one_polls_budget_are_read_over_the_next_polls(sim):
    from moderation.platforms.base import MAX_PAGES_PER_POLL

    world, channel = sim.world, ACCOUNTS["youtube"]
    threads = _backlog(sim, "youtube", 20, start=time.time() - 1000)
    # 7 replies each: more than the 5 inline, so each thread needs a comments.list call.
    replies = [world.add_comment("youtube", channel, f"reply {i}", parent_id=t.id) for t in threads for i in range(7)]
    yt, cursor, read, polls = client("youtube"), {}, set(), 0
    while True:
        polls += 1
        before = len(world.requests)
        result = yt.fetch_since(cursor)
        assert len(world.requests) - before <= MAX_PAGES_PER_POLL
        read |= {c.external_id for c in result.comments}
        cursor = result.cursor
        if not result.more:
            break
        assert polls < 5
    # 20 reply calls at 9 a poll (the page itself costs one): three polls, nothing missed.
    assert polls == 3
    assert read == {c.id for c in threads + replies}
    assert "page_token" not in cursor and len(cursor["threads"]) == 20


def test_facebook_comments_on_posts_older_than_the_recent_25_are_reached(sim):
    from moderation.platforms.base import MAX_PAGES_PER_POLL

    world, page = sim.world, ACCOUNTS["facebook"]
    posts = [world.new_thread("facebook", page) for _ in range(60)]  # 61 posts with the fixture's
    old_post = posts[5]  # 55th newest: on the second feed page after the 25 recent posts
    fb = client("facebook")
    cursor = fb.fetch_since({}).cursor
    late = world.add_comment("facebook", page, "Is this clinic still running?", thread_id=old_post)
    polls, found = 0, False
    while not found:
        polls += 1
        assert polls <= 12, "a comment on an older post was never read"  # ~32 sweep calls at 3+ a poll
        before = len(world.requests)
        result = fb.fetch_since(cursor)
        assert len(world.requests) - before <= MAX_PAGES_PER_POLL  # every poll stays bounded
        cursor = result.cursor
        found = late.id in [c.external_id for c in result.comments]
    assert polls >= 5  # reached by the sweep, not by the recent posts' round
    assert ("facebook", "GET", f"{old_post}/comments") in world.requests[before:]

    # A comment on a post this lap already passed is read in the next lap, which asks for
    # comments since this lap began.
    swept = posts[30]
    again = world.add_comment("facebook", page, "Any news?", thread_id=swept)
    for _ in range(15):
        result = fb.fetch_since(cursor)
        cursor = result.cursor
        if again.id in [c.external_id for c in result.comments]:
            break
    else:
        pytest.fail("a comment on an already swept post was never read")


def test_facebook_block_blocks_the_author_from_the_page(sim):
    comment = sim.world.add_comment("facebook", ACCOUNTS["facebook"], "spam", author_id="8800000000000042")
    response = client("facebook").apply("block", comment_external_id=comment.id, author_external_id="8800000000000042")
    assert response == {"8800000000000042": True}
    assert sim.world.account("facebook", ACCOUNTS["facebook"]).blocked == {"8800000000000042"}


def test_youtube_block_rejects_and_bans_the_author(sim):
    comment = sim.world.add_comment("youtube", ACCOUNTS["youtube"], "spam", author_id="UCspammer")
    client("youtube").apply("block", comment_external_id=comment.id, author_external_id="UCspammer")
    assert comment.moderation_status == "rejected"
    assert sim.world.account("youtube", ACCOUNTS["youtube"]).banned == {"UCspammer"}


@pytest.mark.parametrize("platform,kind", [("instagram", "block"), ("x", "delete")])
def test_what_the_platform_cannot_do_is_refused_without_a_call(sim, platform, kind):
    comment = sim.world.add_comment(platform, ACCOUNTS[platform], "x")
    before = len(sim.world.requests)
    with pytest.raises(NotSupported):
        client(platform).apply(kind, comment_external_id=comment.id, author_external_id=comment.author_id)
    assert len(sim.world.requests) == before


def test_x_block_mutes_the_author_because_blocking_is_enterprise_only(sim):
    comment = sim.world.add_comment("x", ACCOUNTS["x"], "spam", author_id="1465500000000000042")
    x = client("x")
    response = x.apply("block", comment_external_id=comment.id, author_external_id="1465500000000000042")
    account = sim.world.account("x", ACCOUNTS["x"])
    assert (response, account.muted, account.blocked) == ({"data": {"muting": True}}, {"1465500000000000042"}, set())
    assert sim.world.requests[-1] == ("x", "POST", f"users/{ACCOUNTS['x']}/muting")
    # Unmute: DELETE /2/users/:source/muting/:target.
    assert x.apply("unblock", comment_external_id=comment.id, author_external_id="1465500000000000042") == {
        "data": {"muting": False}}
    assert account.muted == set()
    assert sim.world.requests[-1] == ("x", "DELETE", f"users/{ACCOUNTS['x']}/muting/1465500000000000042")


def test_x_mute_sends_the_documented_request(httpserver, settings):
    settings.X_API_BASE = httpserver.url_for("/2")
    httpserver.expect_oneshot_request(
        f"/2/users/{ACCOUNTS['x']}/muting", method="POST", json={"target_user_id": "42"},
        headers={"Authorization": f"Bearer {TOKENS['x']}"},
    ).respond_with_json({"data": {"muting": True}})
    assert client("x").apply("block", comment_external_id="1", author_external_id="42") == {"data": {"muting": True}}
    httpserver.check_assertions()


def test_x_block_without_an_author_is_refused_without_a_call(sim):
    before = len(sim.world.requests)
    with pytest.raises(NotSupported):
        client("x").apply("block", comment_external_id="1")
    assert len(sim.world.requests) == before


def test_x_cannot_hide_replies_in_conversations_we_did_not_start(sim):
    from moderation.platforms.base import PermanentError

    world = sim.world
    root = world.add_comment("x", ACCOUNTS["x"], "someone else's post", author_id="555", thread_id="777")
    with pytest.raises(PermanentError, match="HTTP 403"):
        client("x").apply("hide", comment_external_id=root.id)
    assert root.hidden is False


@pytest.mark.parametrize("platform", PLATFORMS)
def test_throttling_is_rate_limited_with_a_retry_after(sim, platform):
    sim.world.set_fault(platform, "throttle", count=1, retry_after=120)
    with pytest.raises(RateLimited) as caught:
        client(platform).fetch_since({})
    if platform == "youtube":
        assert 0 < caught.value.retry_after <= 24 * 3600  # until midnight Pacific
    else:
        assert 110 <= caught.value.retry_after <= 121


@pytest.mark.parametrize("platform", PLATFORMS)
def test_expired_token_is_auth_expired_and_never_names_the_token(sim, platform):
    sim.world.set_fault(platform, "expired", count=1)
    with pytest.raises(AuthExpired) as caught:
        client(platform).fetch_since({})
    assert TOKENS[platform] not in str(caught.value) and TOKENS[platform] not in repr(caught.value.args)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_wrong_token_is_auth_expired(sim, platform):
    from moderation.platforms import client_class

    wrong = client_class(platform)(account_id=ACCOUNTS[platform], credentials={"access_token": "revoked-token"})
    with pytest.raises(AuthExpired):
        wrong.fetch_since({})


@pytest.mark.parametrize("platform", PLATFORMS)
def test_outage_is_transient(sim, platform):
    sim.world.set_fault(platform, "outage", count=1)
    with pytest.raises(TransientError):
        client(platform).fetch_since({})


def test_unreachable_platform_is_transient_and_bounded_by_the_timeout(settings):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    settings.FACEBOOK_API_BASE = f"http://127.0.0.1:{port}/facebook/v25.0"
    with pytest.raises(TransientError, match="connection failed"):
        client("facebook").fetch_since({})

"""Facebook polling over real HTTP (the simulator): the recent posts in rounds of polls, the
sweep of older posts behind them, and a post's mark passing from one to the other."""

from __future__ import annotations

import time

import time_machine

from moderation.platforms.facebook import POSTS_PER_POLL
from tests.moderation.platforms import fixtures
from tests.moderation.platforms.fixtures import ACCOUNTS, client, comment_ids, new_threads, poll

sim = fixtures.sim  # the simulator fixture, used by name below

PAGE = ACCOUNTS["facebook"]


def _round(fb, cursor, world):
    """Polls until the recent posts' round is done: (comment ids read, cursor, polls)."""
    read, polls = [], 0
    while True:
        polls += 1
        assert polls < 10, "the round never ended"
        result, _ = poll(fb, cursor, world)
        read += comment_ids(result)
        cursor = result.cursor
        if not result.more:
            return read, cursor, polls


def test_every_recent_post_is_read_in_a_round_of_polls(sim):
    # A post costs a call a round, so 25 posts are more than one poll's budget: the round
    # goes on where the last poll stopped instead of reading the newest posts again.
    world = sim.world
    posts = new_threads(sim, "facebook", POSTS_PER_POLL - 1)
    comments = [world.add_comment("facebook", PAGE, f"on post {i}", thread_id=p) for i, p in enumerate(posts)]
    fb = client("facebook")
    read, cursor, polls = _round(fb, {}, world)
    # 6 posts a poll (the feed costs one, 3 calls are the sweep's): 6+6+6+6+1.
    assert polls == 5
    assert sorted(read) == sorted(c.id for c in comments)
    assert "resume" not in cursor and sorted(cursor["posts"]) == sorted(posts)
    # The next round reads nothing again but the boundary second of each post's mark.
    late = world.add_comment("facebook", PAGE, "Is parking free?", thread_id=posts[20])
    again, cursor, _ = _round(fb, cursor, world)
    assert late.id in again and set(again) <= {late.id} | {c.id for c in comments}


def test_a_post_published_during_a_round_is_read_from_when_the_round_began(sim):
    world = sim.world
    posts = new_threads(sim, "facebook", POSTS_PER_POLL - 1)
    fb = client("facebook")
    _, cursor, _ = _round(fb, {}, world)
    began = time.time()
    result, _ = poll(fb, cursor, world)  # a new round: the first 6 posts
    assert result.more and result.cursor["resume"] == posts[6]
    # Published, and commented on, after the round read the feed: it lands before the
    # post the round goes on at, and the round's other posts have newer comments.
    new = world.new_thread("facebook", PAGE)
    early = world.add_comment("facebook", PAGE, "First!", thread_id=new)
    world.add_comment("facebook", PAGE, "Later elsewhere", thread_id=posts[10])
    read, cursor, _ = _round(fb, result.cursor, world)
    assert early.id not in read  # not this round's: it began before the post was there
    assert int(began) <= cursor["since"] <= early.created
    read, cursor, _ = _round(fb, cursor, world)
    assert early.id in read


def test_a_post_pushed_out_of_the_recent_ones_is_read_from_its_own_mark(sim):
    # The sweep reads an older post since the start of its previous lap; with few older
    # posts a lap is a poll, so that moves on every poll. A comment written after a round
    # read the 25th post, on a post that new posts then push out of the 25 before the next
    # round reaches it, is older than the sweep's since: only the post's own mark reads it.
    world = sim.world
    with time_machine.travel(time.time(), tick=False) as clock:
        posts = new_threads(sim, "facebook", POSTS_PER_POLL)  # 26 posts: one older than the recent 25
        last_recent = posts[POSTS_PER_POLL - 1]
        first = world.add_comment("facebook", PAGE, "Which entrance?", thread_id=last_recent)
        fb = client("facebook")
        _, cursor, _ = _round(fb, {}, world)
        assert cursor["posts"][last_recent] == int(first.created)
        clock.shift(10)
        missed = world.add_comment("facebook", PAGE, "The side one is locked", thread_id=last_recent)
        clock.shift(50)  # the next round, a poll interval later: 4 polls read 24 posts
        for _ in range(4):
            result, _ = poll(fb, cursor, world)
            cursor = result.cursor
        assert cursor["resume"] == last_recent
        assert cursor["older"]["since"] > missed.created  # the sweep alone would not read it
        world.new_thread("facebook", PAGE)  # published before the round reaches it
        read = []
        for _ in range(6):  # the round starts again (its post is gone); the sweep goes on
            result, made = poll(fb, cursor, world)
            read += comment_ids(result)
            cursor = result.cursor
            if ("facebook", "GET", f"{last_recent}/comments") in made:
                break
        assert read.count(missed.id) == 1
        assert first.id in read  # read again from its own mark (inclusive), and ignored on upsert
        # Read once by the sweep, the handed-over mark is gone: the cursor stays small.
        assert last_recent not in cursor["posts"] and "marks" not in cursor["older"]


def test_a_mark_handed_over_behind_the_lap_is_kept_for_the_next_lap(sim):
    # The post is pushed out onto the first older position after this lap passed it; the
    # next lap reads it, since this lap began, which is after the comment.
    world = sim.world
    with time_machine.travel(time.time(), tick=False) as clock:
        posts = new_threads(sim, "facebook", POSTS_PER_POLL + 1)  # 27 posts: two older than the recent 25
        last_recent = posts[POSTS_PER_POLL - 1]
        world.add_comment("facebook", PAGE, "Which entrance?", thread_id=last_recent)
        fb = client("facebook")
        _, cursor, _ = _round(fb, {}, world)
        clock.shift(10)
        missed = world.add_comment("facebook", PAGE, "The side one is locked", thread_id=last_recent)
        clock.shift(50)
        for _ in range(3):  # the next round's first 18 posts; the sweep laps behind them
            result, _ = poll(fb, cursor, world)
            cursor = result.cursor
        lap = cursor["older"]
        assert lap["lap"] > missed.created and lap["end"] and not lap["queue"]  # both older posts passed
        world.new_thread("facebook", PAGE)
        result, _ = poll(fb, cursor, world)  # hands the mark over; the lap ends
        cursor = result.cursor
        assert cursor["older"]["since"] > missed.created and last_recent in cursor["older"]["marks"]
        result, made = poll(fb, cursor, world)
        assert ("facebook", "GET", f"{last_recent}/comments") in made
        assert missed.id in comment_ids(result) and "marks" not in result.cursor["older"]

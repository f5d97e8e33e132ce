"""Instagram polling over real HTTP (the simulator, pytest-httpserver): the recent media in
rounds, the sweep of older media behind them, its per-poll budget and its laps."""

from __future__ import annotations

import json
import time

import pytest

from moderation.platforms.instagram import COMMENTS_PAGE_SIZE, MEDIA_PER_POLL, OLDER_PAGES_PER_POLL
from tests.moderation.platforms import fixtures
from tests.moderation.platforms.fixtures import ACCOUNTS, client, comment_ids, make_channel, new_threads, poll

sim = fixtures.sim  # the simulator fixture, used by name below

IG = ACCOUNTS["instagram"]


def test_the_simulators_media_list_pages_like_graph(sim):
    import requests

    media = new_threads(sim, "instagram", 30)
    url, auth = f"{sim.url('instagram')}/{IG}/media", {"Authorization": f"Bearer {fixtures.TOKENS['instagram']}"}
    first = requests.get(url, params={"fields": "id,permalink,timestamp", "limit": 25}, headers=auth, timeout=5).json()
    assert [m["id"] for m in first["data"]] == media[:25]  # newest first
    assert set(first["data"][0]) == {"id", "permalink", "timestamp"}
    assert first["data"][0]["timestamp"] >= first["data"][1]["timestamp"] and first["data"][0]["timestamp"].endswith("+0000")
    assert first["paging"]["next"].split("?")[1] == f"fields=id,permalink,timestamp&limit=25&after={first['paging']['cursors']['after']}"
    rest = requests.get(url, params={"after": first["paging"]["cursors"]["after"]}, headers=auth, timeout=5).json()
    assert rest["data"] == [{"id": m} for m in media[25:]]  # id only unless asked, as Graph answers
    assert "next" not in rest["paging"]  # the last page


def test_every_recent_media_is_read_in_a_round_of_polls(sim):
    # /comments has no `since`, so each media costs a call a round: 25 media are more than
    # one poll's budget, and the round goes on where the last poll stopped.
    world = sim.world
    media = new_threads(sim, "instagram", MEDIA_PER_POLL - 1)
    comments = [world.add_comment("instagram", IG, f"on media {i}", thread_id=m) for i, m in enumerate(media)]
    ig, cursor, read, polls = client("instagram"), {}, set(), 0
    while True:
        polls += 1
        result, _ = poll(ig, cursor, world)
        read |= set(comment_ids(result))
        cursor = result.cursor
        if not result.more:
            break
        assert polls < 10
    # 6 media a poll (the list costs one, 3 calls are the sweep's): 6+6+6+6+1.
    assert polls == 5
    assert read == {c.id for c in comments}
    assert "resume" not in cursor and sorted(cursor["media"]) == sorted(media)


def test_comments_on_media_older_than_the_recent_25_are_reached(sim):
    world = sim.world
    media = new_threads(sim, "instagram", 60)  # 61 media
    old = media[54]  # on the second media page after the 25 recent ones
    ig = client("instagram")
    cursor = ig.fetch_since({}).cursor
    late = world.add_comment("instagram", IG, "Is this clinic still running?", thread_id=old)
    polls, found = 0, False
    while not found:
        polls += 1
        assert polls <= 12, "a comment on an older media was never read"  # 32 sweep calls, 3 or more a poll
        result, made = poll(ig, cursor, world)
        cursor = result.cursor
        found = late.id in comment_ids(result)
    assert polls >= 5  # reached by the sweep, not by the recent round
    assert ("instagram", "GET", f"{old}/comments") in made
    hit = next(c for c in result.comments if c.external_id == late.id)
    assert (hit.thread_external_id, hit.text, hit.permalink) == (old, "Is this clinic still running?",
                                                                f"https://www.instagram.com/p/{old}/")


def test_busy_recent_media_cannot_starve_the_sweep(sim):
    world = sim.world
    media = new_threads(sim, "instagram", 30)
    start = time.time() - 3600
    for m in media[:MEDIA_PER_POLL]:  # 3 pages of comments on every recent media: a long round
        for i in range(2 * COMMENTS_PAGE_SIZE + 1):
            world.add_comment("instagram", IG, f"busy {i}", thread_id=m, at=start + i)
    ig = client("instagram")
    first, made = poll(ig, {}, world)
    assert first.more
    # The sweep's calls: the media page after the recent ones, then the first older media.
    assert made[-OLDER_PAGES_PER_POLL:] == [("instagram", "GET", f"{IG}/media"),
                                             ("instagram", "GET", f"{media[25]}/comments"),
                                             ("instagram", "GET", f"{media[26]}/comments")]
    late = world.add_comment("instagram", IG, "Anyone there?", thread_id=media[27])
    second, made = poll(ig, first.cursor, world)
    assert second.more  # the recent round is far from done
    assert late.id in comment_ids(second)
    assert made[-1] == ("instagram", "GET", f"{media[29]}/comments")


def test_a_lap_restarts_behind_the_recent_media_and_misses_nothing_created_during_it(sim):
    world = sim.world
    media = new_threads(sim, "instagram", 29)  # 30 media: 5 older than the recent 25
    older = media[MEDIA_PER_POLL:]
    history = world.add_comment("instagram", IG, "before we connected", thread_id=older[2], at=time.time() - 3600)
    ig = client("instagram")
    result, made = poll(ig, {}, world)
    lap_one = result.cursor["older"]
    assert (lap_one["depth"], lap_one["queue"]) == (2, [[m, f"https://www.instagram.com/p/{m}/"] for m in older[2:]])
    # A comment on a media this lap has already passed.
    passed = world.add_comment("instagram", IG, "Any news?", thread_id=older[0])
    read, cursor, laps = [], result.cursor, [lap_one["lap"]]
    for _ in range(10):
        result, made = poll(ig, cursor, world)
        read += comment_ids(result)
        cursor = result.cursor
        if "depth" not in cursor["older"]:
            # A lap ended (the next starts at the next poll, possibly in the same second, so
            # its start time can equal this one's): it asks for comments since this one began.
            assert cursor["older"] == {"since": laps[-1], "lap": cursor["older"]["lap"]}
            laps.append(cursor["older"]["lap"])
        if passed.id in read:
            break
    else:
        pytest.fail("a comment on an already swept media was never read")
    assert len(laps) == 2  # read in the second lap...
    # ...which began again at the first media behind the recent ones.
    sweep = [r for r in made if r[2] != f"{IG}/media" and r[2].split("/")[0] in older]
    assert sweep[0] == ("instagram", "GET", f"{older[0]}/comments")
    assert history.id not in read  # older media's history before connecting is not backfilled
    assert read.count(passed.id) == 1


def test_a_media_pushed_out_of_the_recent_ones_is_read_from_its_own_mark(sim):
    world = sim.world
    media = new_threads(sim, "instagram", 29)
    last_recent, now = media[MEDIA_PER_POLL - 1], time.time()
    world.add_comment("instagram", IG, "first", thread_id=last_recent, at=now - 600)
    ig, cursor = client("instagram"), {}
    for _ in range(5):  # one full round: every recent media has its mark
        result, _ = poll(ig, cursor, world)
        cursor = result.cursor
    assert not result.more and cursor["media"][last_recent] == int(now - 600)
    # Written after the round read the media, stamped before the sweep's `since`, and then a
    # new post pushes the media out of the recent 25 before a round reads it again.
    missed = world.add_comment("instagram", IG, "second", thread_id=last_recent, at=now - 300)
    world.new_thread("instagram", IG)
    read = []
    for _ in range(6):
        result, _ = poll(ig, cursor, world)
        read += comment_ids(result)
        cursor = result.cursor
    assert missed.id in read
    assert last_recent not in cursor["media"] and last_recent not in cursor["older"].get("marks", {})


def test_an_older_media_with_more_comments_than_a_poll_reads_is_resumed(sim):
    world = sim.world
    media = new_threads(sim, "instagram", 29)
    target = media[MEDIA_PER_POLL + 2]  # not reached by the first poll's sweep
    ig = client("instagram")
    cursor = ig.fetch_since({}).cursor
    many = [world.add_comment("instagram", IG, f"pile-on {i}", thread_id=target) for i in range(4 * COMMENTS_PAGE_SIZE - 20)]
    result, made = poll(ig, cursor, world)
    assert made[-OLDER_PAGES_PER_POLL:] == [("instagram", "GET", f"{target}/comments")] * OLDER_PAGES_PER_POLL
    first = [i for i in comment_ids(result) if i in {c.id for c in many}]
    assert len(first) == 3 * COMMENTS_PAGE_SIZE and result.cursor["older"]["resume"]
    result, made = poll(ig, result.cursor, world)
    rest = [i for i in comment_ids(result) if i in {c.id for c in many}]
    assert sorted(first + rest) == sorted(c.id for c in many)  # each once, none lost
    assert "resume" not in result.cursor["older"]


def test_usage_headers_near_the_limit_stop_the_round_and_the_sweep(httpserver, settings):
    settings.INSTAGRAM_API_BASE = httpserver.url_for("/v25.0")
    busy = {"X-Business-Use-Case-Usage": json.dumps({IG: [{"type": "instagram", "call_count": 97, "total_cputime": 10,
                                                           "total_time": 12, "estimated_time_to_regain_access": 0}]})}
    httpserver.expect_request(f"/v25.0/{IG}/media").respond_with_json({
        "data": [{"id": "1795", "permalink": "https://www.instagram.com/p/A1/"}, {"id": "1796", "permalink": "x"}],
        "paging": {"cursors": {"before": "QVFIa", "after": "QVFIb"},
                   "next": f"{httpserver.url_for('/v25.0')}/{IG}/media?limit=25&after=QVFIb"}})
    httpserver.expect_request("/v25.0/1795/comments").respond_with_json(
        {"data": [{"id": "1798", "text": "hi", "timestamp": "2026-03-14T09:21:07+0000", "from": {"id": "9"}}]},
        headers=busy)
    result = client("instagram").fetch_since({})
    assert ([c.external_id for c in result.comments], result.backoff_seconds, result.more) == (["1798"], 300, False)
    assert [r.path for r, _ in httpserver.log] == [f"/v25.0/{IG}/media", "/v25.0/1795/comments"]  # no sweep call
    assert (httpserver.log[0][0].args["fields"], httpserver.log[0][0].args["limit"]) == ("id,permalink,timestamp", "25")
    assert result.cursor["resume"] == {"id": "1796"}  # the round goes on there after the back-off


@pytest.mark.django_db
def test_a_channel_keeps_the_sweep_in_its_poll_cursor(sim):
    from moderation.ingest.polling import channel_poll_backlog
    from moderation.models import Comment

    world = sim.world
    channel = make_channel("instagram")
    media = new_threads(sim, "instagram", 29)
    channel_poll_backlog(channel_id=channel.pk, seconds=60)  # one round of the recent media
    late = world.add_comment("instagram", IG, "Where do I park?", thread_id=media[-1])  # the oldest media
    for _ in range(3):
        channel_poll_backlog(channel_id=channel.pk, seconds=60)
        channel.refresh_from_db()
        if Comment.objects.filter(channel=channel, external_id=late.id).exists():
            break
    else:
        pytest.fail("the channel never stored a comment on its oldest media")
    assert {"since", "lap"} <= set(channel.poll_cursor["older"])

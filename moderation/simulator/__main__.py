"""python -m moderation.simulator --port 8765 [--rate 0.2] [--seed N] [--push-to URL]

Serves the four platforms for the demo channels (seed_demo's account ids and tokens) and
posts realistic comments over time: ordinary questions and praise, complaints, abuse,
personal information, safeguarding and crisis posts (texts from the evaluation set), some
replies, some by the page itself, an occasional edit. With --push-to the new Facebook,
Instagram and X comments are also delivered as signed webhooks to <URL>/hooks/meta/ and
<URL>/hooks/x/ (secrets from META_APP_SECRET / X_CONSUMER_SECRET), like the real platforms.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import signal
import threading
import time
import urllib.request

from moderation.simulator.server import SimulatorServer
from moderation.simulator.texts import MODEL_ONLY_CRISIS, TEXTS
from moderation.simulator.world import DEMO_ACCOUNTS, World


def _push(url: str, comment, world: World) -> None:
    platform = comment.platform
    if platform == "youtube":
        return  # YouTube has no push for comments (README §4.1)
    if platform == "x":
        body = {"for_user_id": comment.account_id, "tweet_create_events": [{
            "created_at": time.strftime("%a %b %d %H:%M:%S +0000 %Y", time.gmtime(comment.created)),
            "id_str": comment.id, "text": comment.text, "in_reply_to_status_id_str": comment.parent_id or None,
            "user": {"id_str": comment.author_id, "screen_name": comment.author_name.replace(" ", "_").lower(),
                     "name": comment.author_name}}]}
        raw = json.dumps(body).encode()
        digest = hmac.new(os.environ.get("X_CONSUMER_SECRET", "").encode(), raw, hashlib.sha256).digest()
        headers = {"x-twitter-webhooks-signature": "sha256=" + base64.b64encode(digest).decode()}
        target = url.rstrip("/") + "/hooks/x/"
    else:
        if platform == "facebook":
            value = {"item": "comment", "verb": "add", "comment_id": comment.id, "post_id": comment.thread_id,
                     "parent_id": comment.parent_id or comment.thread_id, "message": comment.text,
                     "from": {"id": comment.author_id, "name": comment.author_name}, "created_time": int(comment.created)}
            change = {"field": "feed", "value": value}
        else:
            value = {"id": comment.id, "text": comment.text, "from": {"id": comment.author_id, "username": comment.author_name},
                     "media": {"id": comment.thread_id, "media_product_type": "FEED"}}
            if comment.parent_id:
                value["parent_id"] = comment.parent_id
            change = {"field": "comments", "value": value}
        body = {"object": "page" if platform == "facebook" else "instagram",
                "entry": [{"id": comment.account_id, "time": int(time.time()), "changes": [change]}]}
        raw = json.dumps(body).encode()
        digest = hmac.new(os.environ.get("META_APP_SECRET", "").encode(), raw, hashlib.sha256).hexdigest()
        headers = {"X-Hub-Signature-256": "sha256=" + digest}
        target = url.rstrip("/") + "/hooks/meta/"
    request = urllib.request.Request(target, data=raw, headers={**headers, "Content-Type": "application/json"}, method="POST")
    try:
        urllib.request.urlopen(request, timeout=5).read()
    except OSError as exc:
        print(f"simulator: webhook push to {target} failed: {exc}", flush=True)


def traffic(world: World, *, rate: float, push_to: str | None, stop: threading.Event) -> None:
    """Roughly ``rate`` comments per second across the demo accounts, forever."""
    rnd = world.random
    while not stop.wait(rnd.expovariate(rate)):
        platform, account_id, _ = rnd.choice(DEMO_ACCOUNTS)
        account = world.account(platform, account_id)
        roll = rnd.random()
        with world.lock:
            recent = [c for c in account.comments[-20:] if c.author_id != account_id]
        if roll < 0.05 and recent:
            # An edit: the text changes upstream; polling/webhooks re-deliver it.
            target = rnd.choice(recent)
            world.edit_comment(platform, target.id, target.text + " (edited) " + rnd.choice(TEXTS)[1])
            continue
        if roll < 0.08:
            world.new_thread(platform, account_id)
            continue
        parent = ""
        if roll < 0.25 and recent and platform != "x":
            parent = rnd.choice(recent).id
        if roll < 0.3 and parent:
            comment = world.add_comment(platform, account_id, "Thanks for getting in touch, we've sent you a message.",
                                        author_id=account_id, author_name="NHS Lincolnshire ICB", parent_id=parent)
        else:
            comment = world.add_comment(platform, account_id, rnd.choice(TEXTS)[1], parent_id=parent)
        if push_to:
            _push(push_to, comment, world)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moderation.simulator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rate", type=float, default=0.2, help="new comments per second (0 = none)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--backlog", type=int, default=12, help="comments per account before the first poll")
    parser.add_argument("--push-to", default=None, help="console base URL to deliver signed webhooks to")
    # Real lifetimes are an hour (YouTube) and two (X); a quarter of an hour lets a demo see
    # the console refresh them (audit: channel.token_refreshed). 0 = tokens never expire.
    parser.add_argument("--token-lifetime", type=float, default=900,
                        help="seconds before YouTube/X access tokens expire and must be refreshed")
    args = parser.parse_args(argv)

    world = World(seed=args.seed)
    # The console's OAuth app, when configured, is the only client the token endpoints accept.
    for platform, prefix in (("youtube", "GOOGLE"), ("x", "X")):
        if os.environ.get(f"{prefix}_CLIENT_ID"):
            world.oauth_clients[platform] = (os.environ[f"{prefix}_CLIENT_ID"], os.environ.get(f"{prefix}_CLIENT_SECRET", ""))
    world.seed_demo(token_lifetime=args.token_lifetime or None)
    for platform, account_id, _ in DEMO_ACCOUNTS:
        for n in range(args.backlog):  # the morning so far, oldest first, a few minutes apart
            world.add_comment(platform, account_id, world.random.choice(TEXTS)[1], at=time.time() - (args.backlog - n) * 240)
    # A crisis post only the model reader catches, so the demo always shows one (README).
    platform, account_id, _ = next(a for a in DEMO_ACCOUNTS if a[0] == "instagram")
    world.add_comment(platform, account_id, MODEL_ONLY_CRISIS, at=time.time() - 120)
    server = SimulatorServer(port=args.port, world=world).start()
    print(f"simulator: serving Facebook, Instagram, YouTube and X on {server.base}", flush=True)
    stop = threading.Event()
    if args.rate > 0:
        threading.Thread(target=traffic, args=(world,), kwargs={"rate": args.rate, "push_to": args.push_to, "stop": stop},
                         daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    stop.set()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

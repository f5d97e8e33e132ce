"""Demo data for `./dev run`: one user per role, four channels, a realistic morning of comments.

Idempotent: running it twice changes nothing, except that the demo channels' tokens are
stored afresh each run (the simulator starts afresh too). Passwords are printed and in the
README; they are for a local demo only.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts import roles
from accounts.models import OnCallShift, User
from moderation.crypto import encrypt_credentials
from moderation.models import Channel
from moderation.ingest.store import comment_upsert
from moderation.platforms.base import IncomingComment
from moderation.simulator.texts import MODEL_ONLY_CRISIS
from moderation.triage.classify import comments_classify

DEMO_USERS = [
    # username, password, first name, last name, role
    ("officer", "officer-demo-2026", "Olivia", "Okafor", roles.OFFICER),
    ("duty", "duty-demo-2026", "Dev", "Patel", roles.DUTY_MANAGER),
    ("admin", "admin-demo-2026", "Alex", "Morgan", roles.POLICY_ADMIN),
]

DEMO_CHANNELS = [
    ("facebook", "104857600123456", "NHS Lincolnshire ICB (Facebook)"),
    ("instagram", "17841400000000001", "@nhslincsicb (Instagram)"),
    ("youtube", "UCdemoLincsICB000000001", "NHS Lincolnshire ICB (YouTube)"),
    ("x", "98765432", "@NHSLincsICB (X)"),
]

# Written for the demo in the voice of real comment sections; none is an evaluation row.
DEMO_COMMENTS = [
    ("facebook", "Brilliant news about the new community diagnostic centre, well done all"),
    ("facebook", "Why does it take six weeks to get a GP appointment in Boston? Shambles."),
    ("facebook", "I want to complain about how my mum was spoken to at the eye clinic on Monday"),
    ("facebook", "You lot are useless f*cking idiots"),
    ("facebook", "Can I have the flu jab if I've got a cold at the moment?"),
    ("facebook", "Cheap followers and likes!!! DM me now, 1000 followers for £5"),
    ("facebook", "My dad's cataract op got cancelled twice, can someone tell me what's going on with his case?"),
    ("instagram", "Love this campaign 💙"),
    ("instagram", "check out my page for weight loss jabs no prescription needed"),
    ("instagram", "Honestly I don't see the point of living any more, nobody would notice if I was gone"),
    ("instagram", "the receptionist at Sleaford was so rude, absolute cow"),
    ("youtube", "Really clear explanation of the vaccine, thanks"),
    ("youtube", "Subscribe to my channel for daily vlogs!!!"),
    ("youtube", "This video is boring and too long"),
    ("x", "Ward 4 at Lincoln County has had no nurse on for hours tonight and a patient has fallen"),
    ("x", "I'm a reporter with BBC Look North, who can I speak to about the ambulance handover times?"),
    ("x", "My neighbour's kids are left alone all weekend and they look starving, who do I tell?"),
    ("x", "Someone should burn the ICB offices down with the managers inside"),
    ("x", "Absolutely disgraceful decision to close the minor injuries unit"),
    # No rule matches it; the model reader escalates it as crisis (README "Model reader").
    # Last, so the earlier comments keep their demo-seed-<n> ids on a re-run.
    ("instagram", MODEL_ONLY_CRISIS),
]


class Command(BaseCommand):
    help = "Create demo users, channels and comments (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-comments",
            action="store_true",
            help="Skip the built-in comments: the platform simulator supplies the traffic "
            "(its comments exist upstream, so hide/delete/reply on them really apply).",
        )

    def handle(self, *args, no_comments=False, **options):
        call_command("load_default_ruleset", stdout=self.stdout)
        self._users()
        channels = self._channels()
        if not no_comments:
            self._comments(channels)
        self._rota()

    def _rota(self):
        """The demo duty manager is on call for the next week, so out-of-hours escalations
        page someone (the e-mail is printed to the console by ./dev run)."""
        duty = User.objects.get(username="duty")
        now = timezone.now()
        if not OnCallShift.objects.filter(starts_at__lte=now, ends_at__gt=now).exists():
            OnCallShift.objects.create(user=duty, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(days=7))
        self.stdout.write("Duty rota: duty (Dev Patel) is on call this week.")

    def _users(self):
        self.stdout.write("Demo users (local demo only):")
        for username, password, first, last, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@example.nhs.uk"}
            )
            if created:
                user.set_password(password)
                user.save()
            user.groups.add(Group.objects.get(name=role))
            self.stdout.write(f"  {role:<14} username {username:<8} password {password}")

    def _channels(self) -> dict[str, Channel]:
        channels = {}
        for platform, account_id, name in DEMO_CHANNELS:
            channel, _ = Channel.objects.get_or_create(
                platform=platform, account_id=account_id, defaults={"name": name}
            )
            # Every run: the simulator starts afresh with these tokens, so tokens a previous
            # demo refreshed (and rotated, on X) would no longer be known to it.
            credentials = {"access_token": f"demo-{platform}-token"}
            if platform in ("youtube", "x"):  # these expire in the simulator and are refreshed
                credentials["refresh_token"] = f"demo-{platform}-refresh"
            channel.credentials_encrypted = encrypt_credentials(credentials)
            channel.save(update_fields=["credentials_encrypted"])
            Channel.objects.filter(pk=channel.pk, state=Channel.State.NEEDS_REAUTH).update(
                state=Channel.State.ACTIVE, state_reason="")
            channels[platform] = channel
        return channels

    def _comments(self, channels: dict[str, Channel]):
        now = timezone.now()
        for n, (platform, text) in enumerate(DEMO_COMMENTS):
            received = now - dt.timedelta(minutes=7 * (len(DEMO_COMMENTS) - n))
            result = comment_upsert(
                channel=channels[platform],
                incoming=IncomingComment(
                    external_id=f"demo-seed-{n}",
                    text=text,
                    author_external_id=f"demo-author-{n % 7}",
                    author_handle=f"resident{n % 7}",
                    author_name=f"Resident {n % 7}",
                    thread_external_id=f"demo-post-{platform}",
                    created_upstream=received,
                    permalink="",
                ),
                received_at=received,
            )
            # Judge now so the queue is full the moment the console opens; the worker would
            # get there too (the task is idempotent, so its later run changes nothing).
            comments_classify(comment_ids=[result.comment.pk])
        self.stdout.write(f"Demo comments: {len(DEMO_COMMENTS)} in the queue's history.")

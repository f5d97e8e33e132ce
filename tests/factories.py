"""factory_boy factories: no JSON fixtures (STYLE.md)."""

import datetime as dt

import factory
from django.utils import timezone

from accounts.models import User
from moderation.models import Author, Channel, Comment, Platform


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.nhs.uk")
    password = factory.django.Password("correct-horse-battery")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    platform = Platform.FACEBOOK
    account_id = factory.Sequence(lambda n: f"page-{n}")
    name = factory.Sequence(lambda n: f"Test channel {n}")


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    platform = Platform.FACEBOOK
    external_id = factory.Sequence(lambda n: f"author-{n}")
    handle = factory.Sequence(lambda n: f"resident{n}")


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    channel = factory.SubFactory(ChannelFactory)
    platform = factory.SelfAttribute("channel.platform")
    external_id = factory.Sequence(lambda n: f"comment-{n}")
    author = factory.SubFactory(AuthorFactory, platform=factory.SelfAttribute("..platform"))
    text = "Great to see the new clinic open."
    received_at = factory.LazyFunction(timezone.now)


class VerdictFactory(factory.django.DjangoModelFactory):
    """A verdict as the engine would store it (the triage console's tests build on these)."""

    class Meta:
        model = "moderation.Verdict"

    comment = factory.SubFactory(CommentFactory)
    comment_revision = 1
    action = "hide"
    escalation = "none"
    signpost = "none"
    categories = factory.LazyFunction(lambda: ["profanity"])
    rules = factory.LazyFunction(list)


class QueueItemFactory(factory.django.DjangoModelFactory):
    """An open queue item; first look due an hour after creation unless given."""

    class Meta:
        model = "moderation.QueueItem"

    verdict = factory.SubFactory(VerdictFactory)
    comment = factory.SelfAttribute("verdict.comment")
    escalation = factory.SelfAttribute("verdict.escalation")
    platform = factory.SelfAttribute("comment.platform")
    channel = factory.SelfAttribute("comment.channel")
    action = factory.SelfAttribute("verdict.action")
    categories = factory.SelfAttribute("verdict.categories")
    priority = 20
    first_look_due = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=1))

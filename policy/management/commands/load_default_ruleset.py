from django.core.management.base import BaseCommand

from policy.engine import load_default_document
from policy.models import RuleSetVersion
from policy.services import ruleset_create_draft, ruleset_publish


class Command(BaseCommand):
    help = "Load the bundled default rule set (policy/data) as a new version and publish it, unless one is published."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Load and publish even if a version is published.")

    def handle(self, *args, force=False, **options):
        if not force and RuleSetVersion.objects.filter(status=RuleSetVersion.Status.PUBLISHED).exists():
            self.stdout.write("A rule set is already published; nothing to do (use --force to replace it).")
            return
        who = "command:load_default_ruleset"
        version = ruleset_create_draft(document=load_default_document(), notes="Bundled default rule set",
                                       system_actor=who)
        ruleset_publish(version=version, system_actor=who)
        self.stdout.write(self.style.SUCCESS(f"Published the default rule set as v{version.number}."))

"""Rule set versions for the policy admin tests: v1 published (the bundled default), v2 a
draft based on it."""

import pytest

from policy.engine import load_default_document
from policy.services import ruleset_create_draft, ruleset_publish


@pytest.fixture
def published(db):
    version = ruleset_create_draft(document=load_default_document(), notes="default", system_actor="tests")
    return ruleset_publish(version=version, system_actor="tests")


@pytest.fixture
def draft(published, policy_admin):
    return ruleset_create_draft(
        document=published.document, actor=policy_admin, based_on=published, notes="draft"
    )

import pytest

from policy.engine import compile_ruleset, load_default_document


@pytest.fixture(scope="session")
def matcher():
    return compile_ruleset(load_default_document())

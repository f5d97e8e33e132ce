"""Published and archived rule set versions are frozen in the database itself.

A verdict names the version that judged it, so that version's document must never change
afterwards: an UPDATE that changes ``document`` on a row that was not a draft raises,
whoever issues it (the application, a shell, a bad migration). Status changes (publish,
archive, roll back) are still allowed; the service layer refuses the edit first with a
readable message (policy.services.RuleSetNotDraft).
"""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION policy_ruleset_frozen_document() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'draft' AND NEW.document IS DISTINCT FROM OLD.document THEN
        RAISE EXCEPTION 'rule set v% is %: its document is frozen', OLD.number, OLD.status;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER policy_ruleset_frozen_document
    BEFORE UPDATE ON policy_rulesetversion
    FOR EACH ROW EXECUTE FUNCTION policy_ruleset_frozen_document();
"""
REVERSE = """
DROP TRIGGER IF EXISTS policy_ruleset_frozen_document ON policy_rulesetversion;
DROP FUNCTION IF EXISTS policy_ruleset_frozen_document();
"""


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]

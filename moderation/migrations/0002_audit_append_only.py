"""Make the audit trail append-only in the database itself.

An UPDATE or DELETE on moderation_auditevent raises, whoever issues it (the application, a
shell, a bad migration). TRUNCATE (test teardown, a deliberate purge by the owner) is not a
row operation and still works.
"""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION moderation_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER moderation_audit_append_only
    BEFORE UPDATE OR DELETE ON moderation_auditevent
    FOR EACH ROW EXECUTE FUNCTION moderation_audit_append_only();
"""
REVERSE = """
DROP TRIGGER IF EXISTS moderation_audit_append_only ON moderation_auditevent;
DROP FUNCTION IF EXISTS moderation_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]

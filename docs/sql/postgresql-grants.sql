-- What the application's role (hdh_app) may do, run by the owner (hdh_owner) after each
-- `flask db upgrade` (docs/deploy.md). The audit trail is append-only for the application:
-- it may read and add events, never change or delete one (the triggers of migration 0006
-- refuse it too; this makes it the database's rule as well). `flask audit purge` runs as the
-- owner. tests/staff/test_audit_grants.py applies this very file and checks it.
GRANT USAGE ON SCHEMA public TO hdh_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO hdh_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM hdh_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO hdh_app;

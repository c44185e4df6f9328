-- cla schema 8: web monitor sessions (issue 17 item 15), kept server-side
-- so that signing out or revoking ends a session on every replica. The id
-- is a digest of the cookie's secret; the record is the JSON of
-- jobs.Session.
CREATE TABLE IF NOT EXISTS cla_sessions (
    id         text COLLATE "C" PRIMARY KEY,
    identity   text COLLATE "C" NOT NULL,
    created_ns bigint NOT NULL,
    expires_ns bigint NOT NULL,
    record     jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS cla_sessions_identity ON cla_sessions (identity, created_ns);
CREATE INDEX IF NOT EXISTS cla_sessions_expiry ON cla_sessions (expires_ns);

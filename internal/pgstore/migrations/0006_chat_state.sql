-- cla schema 6: the Slack side's shared state (jobs.ChatState, issue 16):
-- pending TalkBack confirmations, so a click reaching any replica (or a
-- restarted one) finds its request and spends it once, and the App Homes
-- people opened, so the replica that changes a gate refreshes them.
CREATE TABLE IF NOT EXISTS cla_confirmations (
    id      text COLLATE "C" PRIMARY KEY,
    expires timestamptz NOT NULL,
    record  jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS cla_confirmations_expires ON cla_confirmations (expires);

CREATE TABLE IF NOT EXISTS cla_homes (
    user_id text COLLATE "C" PRIMARY KEY,
    expires timestamptz NOT NULL,
    keys    text[] NOT NULL DEFAULT '{}',
    jobs    text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS cla_homes_expires ON cla_homes (expires);
CREATE INDEX IF NOT EXISTS cla_homes_keys ON cla_homes USING gin (keys);
CREATE INDEX IF NOT EXISTS cla_homes_jobs ON cla_homes USING gin (jobs);

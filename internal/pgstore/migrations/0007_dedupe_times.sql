-- cla schema 7 (issue 13): dedupe keys are pruned after a retention window,
-- so each kind records when it was written. Existing rows take the time of
-- this migration (now() is evaluated once: no table rewrite), so they are
-- kept one full window after the upgrade.
ALTER TABLE cla_logs ADD COLUMN IF NOT EXISTS key_at timestamptz DEFAULT now();
ALTER TABLE cla_outbox ADD COLUMN IF NOT EXISTS enqueued_at timestamptz DEFAULT now();
CREATE INDEX IF NOT EXISTS cla_once_first_seen ON cla_once (first_seen);
CREATE INDEX IF NOT EXISTS cla_logs_key_at ON cla_logs (key_at) WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS cla_outbox_settled_at ON cla_outbox (enqueued_at) WHERE settled;

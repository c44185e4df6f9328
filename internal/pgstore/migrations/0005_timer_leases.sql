-- cla schema 5: due timers are claimed by one replica at a time (a lease),
-- so replicas do not all race to fire the same job.
ALTER TABLE cla_jobs ADD COLUMN IF NOT EXISTS timer_owner text, ADD COLUMN IF NOT EXISTS timer_lease_until timestamptz;

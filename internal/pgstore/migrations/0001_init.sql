-- cla schema 1: jobs with their indexes, logs, channel bindings, the
-- outbox and dedupe keys. Ids compare bytewise (COLLATE "C") like bbolt keys.
CREATE TABLE cla_jobs (
    id         text COLLATE "C" PRIMARY KEY,
    status     text NOT NULL,
    created_ns bigint NOT NULL,
    wake_ns    bigint,
    log_seq    bigint NOT NULL DEFAULT 0,
    data       bytea NOT NULL
);
CREATE INDEX cla_jobs_created ON cla_jobs (created_ns, id);
CREATE INDEX cla_jobs_status ON cla_jobs (status, created_ns, id);
CREATE INDEX cla_jobs_wake ON cla_jobs (wake_ns, id) WHERE wake_ns IS NOT NULL;

CREATE TABLE cla_logs (
    job_id text COLLATE "C" NOT NULL REFERENCES cla_jobs (id),
    seq    bigint NOT NULL,
    key    text COLLATE "C",
    data   bytea NOT NULL,
    PRIMARY KEY (job_id, seq)
);
CREATE UNIQUE INDEX cla_logs_key ON cla_logs (job_id, key) WHERE key IS NOT NULL;

CREATE TABLE cla_channels (
    channel_id text COLLATE "C" PRIMARY KEY,
    job_id     text COLLATE "C" NOT NULL REFERENCES cla_jobs (id)
);

-- Gate announcements (channel, ts) → job, so a thread reply under one finds
-- its job whatever the channel is bound to.
CREATE TABLE cla_messages (
    channel_id text COLLATE "C" NOT NULL,
    ts         text COLLATE "C" NOT NULL,
    job_id     text COLLATE "C" NOT NULL REFERENCES cla_jobs (id),
    PRIMARY KEY (channel_id, ts)
);

-- Settled rows stay (settled = true) so the same cause never enqueues twice.
CREATE TABLE cla_outbox (
    seq         bigserial PRIMARY KEY,
    id          text COLLATE "C" NOT NULL UNIQUE,
    job_id      text COLLATE "C" NOT NULL,
    due_ns      bigint NOT NULL,
    settled     boolean NOT NULL DEFAULT false,
    lease_owner text,
    lease_until timestamptz,
    token       bigint NOT NULL DEFAULT 0,
    data        bytea NOT NULL
);
CREATE INDEX cla_outbox_pending ON cla_outbox (seq) WHERE NOT settled;

CREATE TABLE cla_once (
    key        text COLLATE "C" PRIMARY KEY,
    first_seen timestamptz NOT NULL DEFAULT now()
);

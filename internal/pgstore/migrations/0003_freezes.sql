-- cla schema 3: deployment freezes (issue 11), one row per freeze; the
-- record is the JSON of jobs.Freeze, until is kept apart for ordering.
CREATE TABLE cla_freezes (
    id     text COLLATE "C" PRIMARY KEY,
    until  timestamptz NOT NULL,
    record jsonb NOT NULL
);

-- cla schema 4 (issue 15): outbox lanes with a due-time index of lane heads,
-- and the assignee index of open gates. A lane is a channel type and its
-- target, or "job:<id>" for a notification without one (as
-- jobs.Notification.Lane).
ALTER TABLE cla_outbox ADD COLUMN ch_type text COLLATE "C", ADD COLUMN lane text COLLATE "C", ADD COLUMN targeted boolean;

WITH x AS (
    SELECT seq, job_id, c->>'type' AS typ,
           coalesce(CASE c->>'type' WHEN 'email' THEN c->>'to' WHEN 'webhook' THEN c->>'url' ELSE c->>'channelId' END, '') AS target
    FROM (SELECT seq, job_id, convert_from(data, 'UTF8')::jsonb -> 'channel' AS c FROM cla_outbox WHERE NOT settled) s)
UPDATE cla_outbox o SET ch_type = coalesce(x.typ, ''),
    lane = CASE WHEN x.target = '' THEN 'job:' || x.job_id ELSE x.target END,
    targeted = x.target <> ''
FROM x WHERE o.seq = x.seq;

CREATE INDEX cla_outbox_lane ON cla_outbox (ch_type, lane, seq) WHERE NOT settled;
CREATE INDEX cla_outbox_scope ON cla_outbox (ch_type, job_id, seq) WHERE NOT settled AND targeted;

-- Each lane's deliverable head: the oldest pending notification of the
-- lane, unless it has no target and an older targeted one of its job and
-- type is still pending.
CREATE TABLE cla_outbox_heads (
    ch_type text COLLATE "C" NOT NULL,
    lane    text COLLATE "C" NOT NULL,
    seq     bigint NOT NULL,
    due_ns  bigint NOT NULL,
    PRIMARY KEY (ch_type, lane)
);
CREATE INDEX cla_outbox_heads_due ON cla_outbox_heads (due_ns, seq);

INSERT INTO cla_outbox_heads (ch_type, lane, seq, due_ns)
SELECT DISTINCT ON (ch_type, lane) ch_type, lane, seq, due_ns FROM cla_outbox WHERE NOT settled
ORDER BY ch_type, lane, seq;
DELETE FROM cla_outbox_heads h USING cla_outbox o
WHERE o.seq = h.seq AND NOT o.targeted AND EXISTS (
    SELECT 1 FROM cla_outbox b WHERE NOT b.settled AND b.targeted AND b.ch_type = o.ch_type AND b.job_id = o.job_id AND b.seq < o.seq);

-- One row per assignee key (jobs.AssigneeKey) of each open gate.
CREATE TABLE cla_waiting (
    key        text COLLATE "C" NOT NULL,
    created_ns bigint NOT NULL,
    job_id     text COLLATE "C" NOT NULL REFERENCES cla_jobs (id),
    PRIMARY KEY (key, created_ns, job_id)
);
CREATE INDEX cla_waiting_job ON cla_waiting (job_id);

INSERT INTO cla_waiting (key, created_ns, job_id)
SELECT DISTINCT k.key, j.created_ns, j.id
FROM cla_jobs j,
     LATERAL jsonb_array_elements(coalesce(convert_from(j.data, 'UTF8')::jsonb -> 'gates', '[]')) g,
     LATERAL (
         SELECT a FROM jsonb_array_elements_text(coalesce(g -> 'assignees', '[]')) a
         UNION ALL
         SELECT a FROM jsonb_array_elements(coalesce(g -> 'escalation', '[]')) WITH ORDINALITY e(v, i),
                       jsonb_array_elements_text(coalesce(e.v -> 'assignees', '[]')) a
         WHERE e.i <= coalesce((g ->> 'escalationsDone')::int, 0)
     ) s(a),
     LATERAL (SELECT regexp_replace(btrim(s.a), '^@', '') AS r) n,
     LATERAL (SELECT CASE WHEN position('@' IN n.r) > 0 THEN lower(n.r) ELSE n.r END AS key) k
WHERE g ->> 'state' = 'open' AND k.key <> '';

-- cla schema 9 (issue 17 items 10 and 11): annotations leave the job record
-- and file bytes leave the log. cla_annotations holds the JSON of each
-- jobs.AnnotationRef by (job, number); cla_files a file annotation's bytes.
-- Existing records move here, with the job's usage counters set, and log
-- entries keep a reference to the content route instead of the bytes.
CREATE TABLE IF NOT EXISTS cla_annotations (
    job_id text COLLATE "C" NOT NULL REFERENCES cla_jobs (id),
    n      integer NOT NULL,
    data   bytea NOT NULL,
    PRIMARY KEY (job_id, n)
);
CREATE TABLE IF NOT EXISTS cla_files (
    job_id  text COLLATE "C" NOT NULL REFERENCES cla_jobs (id),
    n       integer NOT NULL,
    content bytea NOT NULL,
    PRIMARY KEY (job_id, n)
);

INSERT INTO cla_annotations (job_id, n, data)
SELECT j.id, a.n, convert_to(a.ref::text, 'UTF8')
FROM cla_jobs j,
     jsonb_array_elements(convert_from(j.data, 'UTF8')::jsonb -> 'annotations') WITH ORDINALITY AS a(ref, n)
WHERE jsonb_typeof(convert_from(j.data, 'UTF8')::jsonb -> 'annotations') = 'array'
ON CONFLICT DO NOTHING;

UPDATE cla_jobs j SET data = convert_to((
    (convert_from(j.data, 'UTF8')::jsonb - 'annotations')
    || jsonb_build_object(
        'annotationCount', jsonb_array_length(convert_from(j.data, 'UTF8')::jsonb -> 'annotations'),
        'annotationBytes', (SELECT coalesce(sum((r ->> 'size')::bigint), 0)
                            FROM jsonb_array_elements(convert_from(j.data, 'UTF8')::jsonb -> 'annotations') r),
        'fileCount', (SELECT count(*)
                      FROM jsonb_array_elements(convert_from(j.data, 'UTF8')::jsonb -> 'annotations') r
                      WHERE r ->> 'kind' = 'file' AND (r ->> 'stored')::boolean IS TRUE))
)::text, 'UTF8')
WHERE jsonb_typeof(convert_from(j.data, 'UTF8')::jsonb -> 'annotations') = 'array';

INSERT INTO cla_files (job_id, n, content)
SELECT l.job_id, (l.e -> 'fields' ->> 'annotation')::integer, decode(l.e ->> 'contentBase64', 'base64')
FROM (SELECT job_id, convert_from(data, 'UTF8')::jsonb AS e FROM cla_logs) l
WHERE l.e ? 'contentBase64' AND (l.e -> 'fields' ->> 'annotation') ~ '^[0-9]+$'
ON CONFLICT DO NOTHING;

UPDATE cla_logs SET data = convert_to((
    CASE WHEN (e -> 'fields' ->> 'annotation') ~ '^[0-9]+$'
         THEN jsonb_set(e - 'contentBase64', '{fields,content}',
              to_jsonb('/v1/jobs/' || job_id || '/annotations/' || (e -> 'fields' ->> 'annotation') || '/content'))
         ELSE e - 'contentBase64' END)::text, 'UTF8')
FROM (SELECT job_id AS jid, seq AS s, convert_from(data, 'UTF8')::jsonb AS e FROM cla_logs) l
WHERE cla_logs.job_id = l.jid AND cla_logs.seq = l.s AND l.e ? 'contentBase64';

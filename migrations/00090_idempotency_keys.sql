-- One record of idempotency for every POST that may be retried (platform/idempotency.Do): the key
-- a client sent, unique within its scope ("<request kind>:<what the key belongs to>", such as
-- "work_record:<station id>"), the hash of what the request meant, and a reference to what the
-- first request made (its id). The row is written in the transaction of the work it guards, so a
-- key and its result commit together. Features move to it one by one; their own key columns stay
-- readable (and written) until every feature has moved, and each move copies its existing keys
-- here, so that retries of requests made before the move still replay.
--
-- Work records are the first to move: their keys were the wage entry's key
-- "wage:<station id>:<key>", and the request hash was the wage entry's (which Do keeps using).

-- +goose Up
CREATE TABLE idempotency_keys (
    scope        text NOT NULL CHECK (scope <> ''),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL,
    result_ref   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

INSERT INTO idempotency_keys (scope, key, request_hash, result_ref, created_at)
SELECT 'work_record:' || wr.station_id, substr(je.idempotency_key, length('wage:' || wr.station_id || ':') + 1),
       je.request_hash, wr.id::text, wr.created_at
FROM work_records wr JOIN journal_entries je ON je.id = wr.entry_id
WHERE je.idempotency_key LIKE 'wage:' || wr.station_id || ':%';

-- +goose Down
DROP TABLE idempotency_keys;

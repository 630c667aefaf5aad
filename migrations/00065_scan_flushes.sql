-- Scan counts move from Redis to PostgreSQL in batches (trace's FlushScans). A batch is first set
-- aside in Redis under an id, atomically with taking it off the pending counts; it is written here
-- in one transaction that also records its id, and only then forgotten in Redis. A flush cut short
-- at any point (a graceful stop cancelling it, a crash, PostgreSQL or Redis failing) leaves the
-- batch set aside, and the next flush, in this process or another, finishes it: the id recorded
-- here says whether it was written already, so it is written exactly once. Rows older than a day
-- are pruned by the flusher (a batch set aside is finished within a flush interval or two).

-- +goose Up
CREATE TABLE scan_flushes (
    id         uuid PRIMARY KEY,
    flushed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scan_flushes_flushed_at ON scan_flushes (flushed_at);

-- +goose Down
DROP TABLE scan_flushes;

-- Issuance jobs: one row per request to issue codes for a batch. The codes of a job are written
-- by one COPY in one transaction that also marks the job done, so a job is either done with all of
-- its codes or has none (a crash or restart rolls the transaction back and the job is run again
-- once its lease expires). The idempotency key makes a repeated request return the same job.

-- +goose Up
CREATE TABLE code_issuances (
    id              uuid PRIMARY KEY,
    batch_id        uuid NOT NULL REFERENCES batches (id),
    idempotency_key text CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 255),
    request_hash    text NOT NULL,
    count           integer NOT NULL CHECK (count > 0),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
    progress        integer NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= count),
    error           text,
    attempts        integer NOT NULL DEFAULT 0,
    lease_until     timestamptz,
    requested_by    uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (batch_id, idempotency_key)
);
CREATE INDEX code_issuances_open ON code_issuances (created_at) WHERE status IN ('pending', 'running');

-- Which job wrote a code. No foreign key on purpose: a million-row COPY would fire one
-- referential-integrity trigger per row; the job id is written by the same transaction that
-- marks the job done, and batch_id (with its key) already ties each code to its batch.
ALTER TABLE trace_codes ADD COLUMN issuance_id uuid;

-- +goose Down
ALTER TABLE trace_codes DROP COLUMN issuance_id;
DROP TABLE code_issuances;

-- The statement triggers of postings run without JIT: the roll-up (ledger_rollup_postings,
-- 00700/00801) and, for the same reason, the references check (postings_references, 00452/00801).
--
-- Why: the roll-up's INSERT is planned once per connection, at its first firing, and the plan is kept,
-- JIT decision included (PostgreSQL decides at planning: total cost > jit_above_cost, 100,000 by
-- default). The cost is dominated by the lookup of a line's first sale (the `ls` lateral, run
-- only for refunds and reversals but costed for every posting): the statement's postings times
-- the postings per order line the statistics expect. So a connection whose first firing was a
-- large statement (a big order's entry), or whose statistics over-count postings per line, keeps
-- a plan above the threshold and compiles it at EVERY firing after: measured 2026-12-06 on a copy
-- of a benchmark ledger (one backend posting copies of its sale entries, a COMMIT each, CPU from
-- /proc): 42–53 ms of CPU per entry instead of 1.25–1.6 ms, the plan's estimated cost 149,000
-- (docs/performance.md, "Receive and posting"). The query is a handful of index probes per
-- posting: compiling it never pays. postings_references is the same kind of query (one probe per
-- distinct key), costed by the statement's postings: a first statement of some thousands of postings
-- puts it over the threshold for the connection's life.
--
-- Nothing else changes: the function's body, what it rolls up and when. A SET on the function
-- applies to the queries it runs and is undone when it returns.

-- +goose Up
ALTER FUNCTION ledger_rollup_postings() SET jit = off;
ALTER FUNCTION postings_references() SET jit = off;

-- +goose Down
ALTER FUNCTION postings_references() RESET jit;
ALTER FUNCTION ledger_rollup_postings() RESET jit;

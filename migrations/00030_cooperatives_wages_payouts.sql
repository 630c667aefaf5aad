-- Cooperatives (合作社) and their member households; products supplied by a cooperative; a station
-- commission in basis points; the ledger accounts that keep what a household earned apart from
-- what it is owed (see docs/ledger.md); payouts to households and wage work (就业帮扶).

-- +goose Up
CREATE TABLE cooperatives (
    id           uuid PRIMARY KEY,
    name         text NOT NULL CHECK (btrim(name) <> ''),
    village_code text NOT NULL REFERENCES regions (code) CHECK (length(village_code) = 12),
    county_code  text NOT NULL REFERENCES regions (code) CHECK (length(county_code) = 6),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (starts_with(village_code, county_code))
);
CREATE INDEX cooperatives_village ON cooperatives (village_code);

-- A member household's share of the cooperative's revenue, in basis points.
CREATE TABLE cooperative_members (
    cooperative_id uuid NOT NULL REFERENCES cooperatives (id),
    household_id   uuid NOT NULL REFERENCES households (id),
    share_bp       integer NOT NULL CHECK (share_bp BETWEEN 1 AND 10000),
    PRIMARY KEY (cooperative_id, household_id)
);
CREATE INDEX cooperative_members_household ON cooperative_members (household_id);

-- Members' shares sum to 10000 at commit, as product suppliers' do.
-- +goose StatementBegin
CREATE FUNCTION check_cooperative_shares() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cid   uuid;
    total bigint;
BEGIN
    IF TG_TABLE_NAME = 'cooperatives' THEN
        cid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        cid := OLD.cooperative_id;
    ELSE
        cid := NEW.cooperative_id;
    END IF;
    SELECT coalesce(sum(share_bp), 0) INTO total FROM cooperative_members WHERE cooperative_id = cid;
    IF total <> 10000 THEN
        RAISE EXCEPTION 'member shares of cooperative % sum to % basis points, not 10000', cid, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'cooperative_members_shares_sum';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER cooperative_members_shares_sum
    AFTER INSERT OR UPDATE OR DELETE ON cooperative_members
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_cooperative_shares();
CREATE CONSTRAINT TRIGGER cooperatives_have_members
    AFTER INSERT ON cooperatives
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_cooperative_shares();

-- A supplier row names either a household or a cooperative. Existing rows all name households and
-- stay valid; the primary key becomes two partial unique indexes.
ALTER TABLE product_suppliers DROP CONSTRAINT product_suppliers_pkey;
ALTER TABLE product_suppliers ALTER COLUMN household_id DROP NOT NULL;
ALTER TABLE product_suppliers ADD COLUMN cooperative_id uuid REFERENCES cooperatives (id);
ALTER TABLE product_suppliers ADD CONSTRAINT product_suppliers_one_supplier
    CHECK (num_nonnulls(household_id, cooperative_id) = 1);
CREATE UNIQUE INDEX product_suppliers_product_household ON product_suppliers (product_id, household_id)
    WHERE household_id IS NOT NULL;
CREATE UNIQUE INDEX product_suppliers_product_cooperative ON product_suppliers (product_id, cooperative_id)
    WHERE cooperative_id IS NOT NULL;
CREATE INDEX product_suppliers_cooperative ON product_suppliers (cooperative_id) WHERE cooperative_id IS NOT NULL;

-- The station's commission on its sales, in basis points of each line; 0 unless the county sets it.
ALTER TABLE stations ADD COLUMN commission_bp integer NOT NULL DEFAULT 0
    CHECK (commission_bp BETWEEN 0 AND 5000);

-- New account kinds: wage income (工资性收入) apart from business income (经营性收入, the existing
-- household_income), the memorandum debit that mirrors both (household_attributed), the
-- cooperative pass-through (always nets to zero) and a station's wage cost.
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN (
    'household_income', 'household_wage_income', 'household_attributed', 'household_payable',
    'cooperative_passthrough', 'unit_receivable', 'station_commission', 'station_wages',
    'platform_fee', 'bank'));

ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
    CHECK (kind IN ('sale', 'payment', 'refund', 'payout', 'wage', 'reversal'));

CREATE INDEX postings_order_line ON postings (order_line_id) WHERE order_line_id IS NOT NULL;

-- A transfer to a household's bank account. reference is the bank's transfer reference (unique:
-- one transfer is paid out once).
CREATE TABLE payouts (
    id           uuid PRIMARY KEY,
    household_id uuid NOT NULL REFERENCES households (id),
    amount_fen   bigint NOT NULL CHECK (amount_fen > 0),
    reference    text NOT NULL UNIQUE CHECK (btrim(reference) <> '' AND length(reference) <= 64),
    entry_id     uuid NOT NULL UNIQUE REFERENCES journal_entries (id),
    paid_at      timestamptz NOT NULL,
    created_by   uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payouts_household ON payouts (household_id, paid_at);

-- Work done for a station by a member of a household (就业帮扶), and its pay.
CREATE TABLE work_records (
    id           uuid PRIMARY KEY,
    station_id   uuid NOT NULL REFERENCES stations (id),
    household_id uuid NOT NULL REFERENCES households (id),
    task         text NOT NULL CHECK (task IN ('picking', 'sorting', 'packing', 'delivery', 'other')),
    work_date    date NOT NULL,
    minutes      integer NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
    pay_fen      bigint NOT NULL CHECK (pay_fen > 0),
    entry_id     uuid NOT NULL UNIQUE REFERENCES journal_entries (id),
    recorded_by  uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_records_household ON work_records (household_id, work_date);
CREATE INDEX work_records_station ON work_records (station_id, work_date);

-- +goose Down
DROP TABLE work_records;
DROP TABLE payouts;
DROP INDEX postings_order_line;
-- Down is refused while the ledger uses the new kinds: append-only postings cannot be removed.
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check
    CHECK (kind IN ('sale', 'payment', 'refund', 'payout', 'reversal'));
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN (
    'household_income', 'household_payable', 'unit_receivable', 'station_commission', 'platform_fee', 'bank'));
ALTER TABLE stations DROP COLUMN commission_bp;
DROP INDEX product_suppliers_cooperative;
DROP INDEX product_suppliers_product_cooperative;
DROP INDEX product_suppliers_product_household;
ALTER TABLE product_suppliers DROP CONSTRAINT product_suppliers_one_supplier;
-- Fails (NOT NULL) while a product is supplied by a cooperative: re-list it with households first.
ALTER TABLE product_suppliers DROP COLUMN cooperative_id;
ALTER TABLE product_suppliers ALTER COLUMN household_id SET NOT NULL;
ALTER TABLE product_suppliers ADD PRIMARY KEY (product_id, household_id);
DROP TABLE cooperative_members;
DROP TABLE cooperatives;
DROP FUNCTION check_cooperative_shares();

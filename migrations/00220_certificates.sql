-- 承诺达标合格证 (issue 14): which product categories the certificate rule covers, and the
-- certificates stations issue for their batches. Rule: 《农产品质量安全承诺达标合格证管理办法》
-- (农业农村部令2025年第4号, in force 2026-02-01); docs/certificate.md. Owner: internal/certificate.

-- +goose Up
-- A decision per product category (products.category is free text): the class of Art. 3 it falls
-- in, or NULL when decided not covered. A category without a row is undecided: not covered until
-- the county office decides (GET /api/v1/certificate-coverage lists the undecided in use).
CREATE TABLE certificate_coverage (
    category   text PRIMARY KEY CHECK (btrim(category) <> '' AND char_length(category) <= 30),
    class      text CHECK (class IN ('vegetables', 'fruit', 'fresh_tea', 'livestock_poultry', 'eggs', 'aquatic')),
    note       text NOT NULL DEFAULT '',
    decided_by uuid,
    decided_at timestamptz NOT NULL DEFAULT now()
);
-- The rule's own words, and the plain names stations use for them; processed goods are outside
-- the rule (it covers 食用农产品 as harvested: 茶鲜叶, not made tea; fresh, not cured, meat).
INSERT INTO certificate_coverage (category, class, note) VALUES
    ('蔬菜', 'vegetables', '第三条（一）'),
    ('食用菌', 'vegetables', '第三条（一）蔬菜（含人工种植的食用菌）'),
    ('水果', 'fruit', '第三条（二）'),
    ('茶鲜叶', 'fresh_tea', '第三条（三）'),
    ('畜禽', 'livestock_poultry', '第三条（四）'),
    ('禽蛋', 'eggs', '第三条（五）'),
    ('鸡蛋', 'eggs', '第三条（五）'),
    ('鸭蛋', 'eggs', '第三条（五）'),
    ('养殖水产品', 'aquatic', '第三条（六）'),
    ('水产', 'aquatic', '第三条（六）养殖水产品'),
    ('水产品', 'aquatic', '第三条（六）养殖水产品'),
    ('茶叶', NULL, '加工茶，不是茶鲜叶'),
    ('腊肉', NULL, '加工食品'),
    ('肉制品', NULL, '加工食品'),
    ('腌制品', NULL, '加工食品'),
    ('蜂蜜', NULL, '不在第三条所列'),
    ('手工艺品', NULL, '不是食用农产品');

CREATE SEQUENCE certificate_serial;

-- A certificate is never changed: a correction is a new certificate naming the one it
-- supersedes (which stays). Rows may be deleted only after retain_until (Art.: records kept at
-- least six months); the API has no delete.
CREATE TABLE certificates (
    id            uuid PRIMARY KEY,
    serial        text NOT NULL UNIQUE CHECK (serial ~ '^[0-9]{6}-[0-9]{8}-[0-9]{6,}$'),
    batch_id      uuid NOT NULL REFERENCES batches (id),
    product_id    uuid NOT NULL,
    station_id    uuid NOT NULL,
    product_name  text NOT NULL CHECK (btrim(product_name) <> ''),
    quantity      numeric(14, 3) NOT NULL CHECK (quantity > 0),
    quantity_unit text NOT NULL CHECK (btrim(quantity_unit) <> ''),
    origin_code   text NOT NULL,
    origin_name   text NOT NULL,
    issuer_name   text NOT NULL CHECK (btrim(issuer_name) <> ''),
    contact_name  text NOT NULL CHECK (btrim(contact_name) <> ''),
    contact_phone text NOT NULL CHECK (btrim(contact_phone) <> ''),
    commitments   text[] NOT NULL CHECK (commitments @> ARRAY['no_banned_inputs', 'residues_within_limits', 'truthful']),
    basis         text[] NOT NULL CHECK (cardinality(basis) >= 1
                      AND basis <@ ARRAY['entrusted_test', 'self_test', 'internal_control', 'self_commitment']),
    issued_at     timestamptz NOT NULL,
    issued_by     uuid,
    retain_until  timestamptz NOT NULL,
    supersedes    uuid UNIQUE REFERENCES certificates (id),
    reason        text NOT NULL DEFAULT '',
    CHECK (retain_until >= issued_at + interval '6 months'),
    CHECK ((supersedes IS NULL) = (reason = ''))
);
-- One first certificate per batch; later ones each supersede one (a chain, never a fork).
CREATE UNIQUE INDEX certificates_first_of_batch ON certificates (batch_id) WHERE supersedes IS NULL;
CREATE INDEX certificates_batch ON certificates (batch_id, issued_at);

-- +goose StatementBegin
CREATE FUNCTION certificates_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'certificate % is never changed: issue a certificate that supersedes it', OLD.serial
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'certificates are kept until their retention ends: delete rows past retain_until instead'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.retain_until > now() THEN
        RAISE EXCEPTION 'certificate % must be kept until % (农业农村部令2025年第4号: at least six months)',
            OLD.serial, OLD.retain_until USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER certificates_kept BEFORE UPDATE OR DELETE ON certificates
    FOR EACH ROW EXECUTE FUNCTION certificates_kept();
CREATE TRIGGER certificates_kept_truncate BEFORE TRUNCATE ON certificates
    FOR EACH STATEMENT EXECUTE FUNCTION certificates_kept();
-- The scan view shows the batch's certificate: a new one makes cached views stale (00011).
CREATE TRIGGER trace_epoch_certificates AFTER INSERT ON certificates
    FOR EACH STATEMENT EXECUTE FUNCTION trace_bump_epoch();

-- What other packages may read: a batch's current certificate (the one nothing supersedes).
CREATE VIEW certificates_view AS
    SELECT c.id, c.serial, c.batch_id, c.issuer_name, c.issued_at
    FROM certificates c
    WHERE NOT EXISTS (SELECT 1 FROM certificates n WHERE n.supersedes = c.id);

-- +goose Down
DROP VIEW certificates_view;
DROP TABLE certificates;
DROP FUNCTION certificates_kept();
DROP SEQUENCE certificate_serial;
DROP TABLE certificate_coverage;

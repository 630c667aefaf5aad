-- A photo per product (issue 13): JPEG renditions that the server re-encoded from the upload (no
-- metadata kept), served publicly at /api/v1/products/{id}/photo and shown on the scan page, so a
-- change drops the cached scan views (cache epoch, 00011).

-- +goose Up
CREATE TABLE product_photos (
    product_id uuid PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    jpeg bytea NOT NULL,
    thumb bytea NOT NULL,
    width integer NOT NULL CHECK (width BETWEEN 1 AND 1200),
    height integer NOT NULL CHECK (height BETWEEN 1 AND 1200),
    etag text NOT NULL,
    updated_at timestamptz NOT NULL
);
-- JPEG does not compress further: store it out of line without trying.
ALTER TABLE product_photos ALTER COLUMN jpeg SET STORAGE EXTERNAL, ALTER COLUMN thumb SET STORAGE EXTERNAL;
CREATE TRIGGER trace_epoch_product_photos AFTER INSERT OR UPDATE OR DELETE ON product_photos
    FOR EACH STATEMENT EXECUTE FUNCTION trace_bump_epoch();

-- +goose Down
DROP TABLE product_photos;

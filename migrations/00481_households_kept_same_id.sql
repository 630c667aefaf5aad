-- 00480 refused any UPDATE that named households.id, even one setting it to itself (an ORM that
-- writes every column would do that); a foreign key only refuses a new key. The update trigger
-- now fires only when the id changes; deletes are refused as before.

-- +goose Up
DROP TRIGGER households_kept ON households;
CREATE TRIGGER households_kept BEFORE DELETE ON households
    FOR EACH ROW EXECUTE FUNCTION households_refuse_delete();
CREATE TRIGGER households_kept_id BEFORE UPDATE OF id ON households
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION households_refuse_delete();

-- +goose Down
DROP TRIGGER households_kept_id ON households;
DROP TRIGGER households_kept ON households;
CREATE TRIGGER households_kept BEFORE DELETE OR UPDATE OF id ON households
    FOR EACH ROW EXECUTE FUNCTION households_refuse_delete();

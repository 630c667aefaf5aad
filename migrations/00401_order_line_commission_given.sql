-- An order line's commission (00060: the station's rate when the order is placed) is given by the
-- placing statement, which reads it through station's stations_view in the same statement (the
-- same snapshot the trigger's read had), and the trigger now fires only for a line inserted
-- without one (issue 15, docs/performance.md "Place + pay regression"): it ran a plpgsql call and
-- a SELECT of stations per line of every order. What a line keeps is unchanged; a caller that
-- gives a commission was trusted before too (the trigger filled only NULLs).

-- +goose Up
CREATE OR REPLACE VIEW stations_view AS
    SELECT id, name, commission_bp FROM stations;
DROP TRIGGER order_lines_commission ON order_lines;
CREATE TRIGGER order_lines_commission BEFORE INSERT ON order_lines
    FOR EACH ROW WHEN (NEW.commission_bp IS NULL) EXECUTE FUNCTION order_line_commission();

-- +goose Down
DROP TRIGGER order_lines_commission ON order_lines;
CREATE TRIGGER order_lines_commission BEFORE INSERT ON order_lines
    FOR EACH ROW EXECUTE FUNCTION order_line_commission();
DROP VIEW stations_view;
CREATE VIEW stations_view AS
    SELECT id, name FROM stations;

package household

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// MoveVillages moves the current households of villages from into village to, inside the caller's
// transaction tx (a village merge, 村庄撤并: region.Merger): each move is recorded in
// household_villages by its trigger and in the household audit as an update of village_code by
// actor, an admin, at at. The households are locked in id order first. Returns how many moved.
func MoveVillages(ctx context.Context, tx *gorm.DB, from []string, to string, actor uuid.UUID, at time.Time) (int, error) {
	var moved int
	err := tx.WithContext(ctx).Raw(`
		WITH m AS (
		    SELECT id, village_code AS old FROM households WHERE village_code IN ? ORDER BY id FOR UPDATE
		), u AS (
		    UPDATE households h SET village_code = ?, updated_at = ? FROM m WHERE h.id = m.id RETURNING h.id, m.old
		), a AS (
		    INSERT INTO household_audit (id, household_id, actor_id, actor_role, action, changes, at)
		    SELECT gen_random_uuid(), u.id, ?, 'admin', 'update',
		           jsonb_build_object('village_code', jsonb_build_object('from', u.old, 'to', CAST(? AS text))), ?
		    FROM u
		)
		SELECT count(*) FROM u`, from, to, at, actor, to, at).Scan(&moved).Error
	return moved, err
}

// MoveCooperatives moves the cooperatives of villages from into village to, inside the caller's
// transaction tx (a village merge).
func MoveCooperatives(ctx context.Context, tx *gorm.DB, from []string, to string) error {
	return tx.WithContext(ctx).Exec(`UPDATE cooperatives SET village_code = ? WHERE village_code IN ?`, to, from).Error
}

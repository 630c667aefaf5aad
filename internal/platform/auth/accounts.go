package auth

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// checkPassword adds a field error when a new password is not 10 to 72 bytes (bcrypt reads 72).
func checkPassword(f *apperr.Fields, field, password string) {
	if n := len(password); n < 10 || n > 72 {
		f.Add(field, "must be 10 to 72 bytes long")
	}
}

// Get returns the account id. Errors: NotFound.
func (s *Users) Get(ctx context.Context, id uuid.UUID) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return User{}, apperr.NotFound("user")
	}
	if err != nil {
		return User{}, apperr.DB(err, "user")
	}
	return u, nil
}

// List returns every account, by username; role "" lists all roles.
func (s *Users) List(ctx context.Context, role Role) ([]User, error) {
	q := s.db.WithContext(ctx).Order("username")
	if role != "" {
		q = q.Where("role = ?", role)
	}
	users := []User{}
	if err := q.Find(&users).Error; err != nil {
		return nil, apperr.DB(err, "user")
	}
	return users, nil
}

// ChangePassword sets the caller's password after checking the current one, and ends the
// caller's other sessions (a stolen token stops working once its owner changes the password) and
// every device cookie of the account.
// A wrong current password counts as a failed login of the account from clientIP (a stolen token
// is no way around the login throttle).
// Errors: Invalid (current_password wrong, new_password too short or long or unchanged).
func (s *Users) ChangePassword(ctx context.Context, p Principal, clientIP, current, next string) error {
	u, err := s.Get(ctx, p.UserID)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(current)) != nil {
		if err := s.failed(ctx, throttleOf(u.Username, clientIP)); err != nil {
			return err
		}
		return apperr.Invalid(apperr.Field("current_password", "is not the account's password"))
	}
	var f apperr.Fields
	checkPassword(&f, "new_password", next)
	if next == current {
		f.Add("new_password", "must differ from the current password")
	}
	if err := f.Err(); err != nil {
		return err
	}
	k := throttleOf(u.Username, clientIP)
	return s.setPassword(ctx, u.ID, next, p.SessionID, func(tx *gorm.DB) error { return keepOnlyPair(tx, k) })
}

// setPassword stores a new hash, ends the account's sessions but keep, revokes its device cookies
// (the caller's too: the cookie is sent to the login only, so it cannot be told apart here; the
// next login gives a new one) and updates its login throttle with forget, in one transaction.
func (s *Users) setPassword(ctx context.Context, id uuid.UUID, password string, keep uuid.UUID, forget func(*gorm.DB) error) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return err
	}
	var ended []uuid.UUID
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("UPDATE users SET password_hash = ? WHERE id = ?", string(hash), id).Error; err != nil {
			return apperr.DB(err, "user")
		}
		ended, err = revokeSessions(ctx, tx, id, keep)
		if err != nil {
			return err
		}
		if err := revokeDevices(tx, id); err != nil {
			return apperr.DB(err, "login device")
		}
		return apperr.DB(forget(tx), "login throttle")
	})
	if err != nil {
		return err
	}
	s.forget(ctx, ended)
	return nil
}

// managed returns the account id if the county office manages it here: station operators' and
// buyers' accounts. Errors: NotFound, Forbidden (an admin account).
func (s *Users) managed(ctx context.Context, id uuid.UUID) (User, error) {
	u, err := s.Get(ctx, id)
	if err != nil {
		return User{}, err
	}
	if u.Role == RoleAdmin {
		return User{}, apperr.Forbidden("county office accounts are not disabled or reset here; only station operators' and buyers' accounts are")
	}
	return u, nil
}

// ResetPassword sets a new password on a station operator's or buyer's account (the county
// office hands it over), ends its sessions, revokes its device cookies and forgets its failed
// logins and known addresses.
// Errors: NotFound, Forbidden (an admin account), Invalid (password).
func (s *Users) ResetPassword(ctx context.Context, id uuid.UUID, password string) error {
	var f apperr.Fields
	checkPassword(&f, "password", password)
	if err := f.Err(); err != nil {
		return err
	}
	u, err := s.managed(ctx, id)
	if err != nil {
		return err
	}
	name := throttleOf(u.Username, "").account
	return s.setPassword(ctx, u.ID, password, uuid.Nil, func(tx *gorm.DB) error { return forgetAccount(tx, name) })
}

// SetDisabled disables (ending its sessions) or re-enables a station operator's or buyer's
// account, and returns it. Errors: NotFound, Forbidden (an admin account).
func (s *Users) SetDisabled(ctx context.Context, id uuid.UUID, disabled bool) (User, error) {
	u, err := s.managed(ctx, id)
	if err != nil {
		return User{}, err
	}
	var ended []uuid.UUID
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if !disabled {
			u.DisabledAt = nil
			return apperr.DB(tx.Exec("UPDATE users SET disabled_at = NULL WHERE id = ?", id).Error, "user")
		}
		if u.DisabledAt == nil {
			now := time.Now().UTC()
			u.DisabledAt = &now
			if err := tx.Exec("UPDATE users SET disabled_at = ? WHERE id = ?", now, id).Error; err != nil {
				return apperr.DB(err, "user")
			}
		}
		ended, err = revokeSessions(ctx, tx, id, uuid.Nil)
		return err
	})
	if err != nil {
		return User{}, err
	}
	s.forget(ctx, ended)
	return u, nil
}

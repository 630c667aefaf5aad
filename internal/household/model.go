// Package household keeps the register of households (建档立卡户) with their personal data sealed
// at rest and masked on the way out.
package household

import (
	"regexp"
	"time"

	"github.com/google/uuid"
)

// Status is a household's standing in the poverty register (see GLOSSARY).
type Status string

// Statuses: poor (建档立卡贫困户), lifted (脱贫户) and the three monitored kinds (监测对象, since 2021).
const (
	StatusPoor              Status = "poor"
	StatusLifted            Status = "lifted"
	StatusMonitoredUnstable Status = "monitored_unstable"
	StatusMonitoredMarginal Status = "monitored_marginal"
	StatusMonitoredHardship Status = "monitored_hardship"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusPoor, StatusLifted, StatusMonitoredUnstable, StatusMonitoredMarginal, StatusMonitoredHardship:
		return true
	}
	return false
}

// Household is a registered household with its personal data in clear (in memory only).
type Household struct {
	ID          uuid.UUID
	ArchiveNo   string // 户编号
	HeadName    string // 户主姓名, personal data
	IDNumber    string // 身份证号 of the head, personal data
	Phone       string // personal data, may be empty
	VillageCode string // 12-digit region code
	CountyCode  string // 6-digit region code, the first six of VillageCode
	Members     int    // 家庭人口
	Status      Status
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// row is the stored form: personal data sealed (AES-256-GCM) with a blind index of the ID number.
type row struct {
	ID           uuid.UUID `gorm:"primaryKey"`
	ArchiveNo    string
	HeadNameEnc  []byte
	IDNumberEnc  []byte `gorm:"column:id_number_enc"`
	IDNumberHmac []byte `gorm:"column:id_number_hmac"`
	PhoneEnc     []byte
	VillageCode  string
	CountyCode   string
	Members      int
	Status       Status
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (row) TableName() string { return "households" }

// Limits on what a household record holds.
const (
	MaxMembers  = 30
	MaxNameLen  = 30
	archivePatt = `^[0-9A-Za-z-]{1,32}$`
)

var (
	archiveRe = regexp.MustCompile(archivePatt)
	// Mainland mobile numbers, or a landline with optional area code.
	phoneRe = regexp.MustCompile(`^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$`)
)

// Package monitoring keeps the households at risk of falling (back) into poverty (防止返贫致贫对象)
// and the county office's early warning list built from the income this platform has seen.
//
// A registration records the channel that found the household — self-declaration (农户自主申报),
// local checks (基层日常排查) or a department's data warning (部门大数据预警), the three channels of
// the 2026 中央一号文件 and of the 防止返贫致贫动态监测和帮扶 policy —, the risk type, the day it
// entered monitoring and, when the risk is removed (风险消除), the day it left. History is kept: a
// registration is never deleted or rewritten, only closed once, and a household has at most one
// open registration (docs/monitoring.md).
package monitoring

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/civil"
)

// Channels through which a household at risk is found.
const (
	ChannelSelfDeclared = "self_declared" // 农户自主申报
	ChannelLocalCheck   = "local_check"   // 基层日常排查
	ChannelDataWarning  = "data_warning"  // 部门大数据预警 (this platform's early warning is one)
)

var channels = map[string]bool{ChannelSelfDeclared: true, ChannelLocalCheck: true, ChannelDataWarning: true}

// Risk types (风险类型) as the monitoring system records them: 因病, 因残, 因学, 因灾, 因意外事故,
// 因产业项目失败, 因务工就业不稳, 因收入骤减, 因支出骤增, 其他.
var riskTypes = map[string]bool{"illness": true, "disability": true, "education": true, "disaster": true,
	"accident": true, "industry_failure": true, "unstable_employment": true, "income_drop": true,
	"expense_surge": true, "other": true}

// RiskIncomeDrop is the risk type of a registration made from an income warning by default.
const RiskIncomeDrop = "income_drop"

// Registration is one period of a household in monitoring. ExitedOn, ExitReason and ExitedAt are
// set together when the risk is removed. Warning holds the figures of the warning it was made
// from (channel data_warning), fixed when it was registered.
type Registration struct {
	ID           uuid.UUID       `json:"id"`
	HouseholdID  uuid.UUID       `json:"household_id"`
	ArchiveNo    string          `json:"archive_no"`
	VillageCode  string          `json:"village_code"`
	Channel      string          `json:"channel"`
	RiskType     string          `json:"risk_type"`
	Reason       string          `json:"reason"`
	EnteredOn    civil.Date      `json:"entered_on"`
	Warning      json.RawMessage `json:"warning"`
	RegisteredAt time.Time       `json:"registered_at"`
	ExitedOn     *civil.Date     `json:"exited_on"`
	ExitReason   *string         `json:"exit_reason"`
	ExitedAt     *time.Time      `json:"exited_at"`
}

// NewRegistration is what a user registers: Channel and RiskType from the lists above, Reason a
// note (at most 500 characters), EnteredOn the day it entered monitoring (not in the future).
type NewRegistration struct {
	HouseholdID uuid.UUID
	Channel     string
	RiskType    string
	Reason      string
	EnteredOn   civil.Date
	By          uuid.UUID
}

// Exit closes a registration: On (not before its entry, not in the future), Reason why the risk is
// removed (1..500 characters).
type Exit struct {
	On     civil.Date
	Reason string
	By     uuid.UUID
}

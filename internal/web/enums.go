package web

// enums is the one table of enum values shown on pages (a code's void reason, an event's business
// step), per language. Pages show enum values only through Enum, never the stored English word, so
// that a Chinese page never says `recalled` or `damaged`; trace's tests check that every value it
// can store has an entry in every language.
var enums = map[Lang]map[string]string{
	"zh": {
		"void_reason.damaged":  "破损",
		"void_reason.recalled": "批次召回",
		"void_reason.lost":     "遗失",
		"void_reason.other":    "其他",
		"void_reason.?":        "其他",

		"step.commissioning":   "赋码入库",
		"step.packing":         "包装",
		"step.shipping":        "发货",
		"step.receiving":       "签收",
		"step.retail_selling":  "售出",
		"step.decommissioning": "注销",
		"step.holding":         "召回暂扣",
		"step.inspecting":      "检验",
		"step.?":               "记录",
	},
	"en": {
		"void_reason.damaged":  "damaged",
		"void_reason.recalled": "batch recalled",
		"void_reason.lost":     "lost",
		"void_reason.other":    "other",
		"void_reason.?":        "other",

		"step.commissioning":   "Code issued",
		"step.packing":         "Packed",
		"step.shipping":        "Shipped",
		"step.receiving":       "Received",
		"step.retail_selling":  "Sold",
		"step.decommissioning": "Voided",
		"step.holding":         "Held (recall)",
		"step.inspecting":      "Inspected",
		"step.?":               "Record",
	},
}

// Enum is the page text of an enum value of a kind ("void_reason", "step") in lang. A value
// without an entry shows the kind's neutral word ("其他", "记录"), never the stored value.
func Enum(lang Lang, kind, value string) string {
	if s, ok := enums[lang][kind+"."+value]; ok {
		return s
	}
	return enums[lang][kind+".?"]
}

// HasEnum says whether value of kind has its own entry in lang (for tests that keep the table whole).
func HasEnum(lang Lang, kind, value string) bool {
	_, ok := enums[lang][kind+"."+value]
	return ok
}

// Langs are the page languages.
var Langs = []Lang{"zh", "en"}

package web

// Texts of the scan page added with the code lifecycle and the suspicious verdict (kept apart from
// texts.go so that other pages' texts can grow there without touching these).
func init() {
	add := map[Lang]map[string]string{
		"zh": {
			"suspicious":        "注意：此码查询异常，可能被复制，请向销售站点核实",
			"void_damaged":      "原因：破损",
			"void_recalled":     "原因：批次召回",
			"void_lost":         "原因：遗失",
			"void_other":        "原因：其他",
			"holding":           "召回暂扣",
			"inspecting":        "检验",
			"declared_in_error": "已更正（记录有误）",
		},
		"en": {
			"suspicious":        "Caution: this code is scanned unusually often and may have been copied; check with the selling station",
			"void_damaged":      "Reason: damaged",
			"void_recalled":     "Reason: batch recalled",
			"void_lost":         "Reason: lost",
			"void_other":        "Reason: other",
			"holding":           "Held (recall)",
			"inspecting":        "Inspected",
			"declared_in_error": "Corrected (recorded in error)",
		},
	}
	for lang, m := range add {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}

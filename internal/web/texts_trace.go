package web

// Texts of the scan page added with the code lifecycle and the suspicious verdict (kept apart from
// texts.go so that other pages' texts can grow there without touching these).
func init() {
	add := map[Lang]map[string]string{
		"zh": {
			"suspicious":        "注意：此码查询异常，可能被复制，请向销售站点核实",
			"declared_in_error": "已更正（记录有误）",
		},
		"en": {
			"suspicious":        "Caution: this code is scanned unusually often and may have been copied; check with the selling station",
			"declared_in_error": "Corrected (recorded in error)",
		},
	}
	for lang, m := range add {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}

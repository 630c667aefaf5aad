package web

// Texts of the scan page added with the code lifecycle and the suspicious verdict (kept apart from
// texts.go so that other pages' texts can grow there without touching these).
func init() {
	add := map[Lang]map[string]string{
		"zh": {
			"suspicious":        "注意：此码查询异常，可能被复制，请向销售站点核实",
			"declared_in_error": "已更正（记录有误）",
			"busy_title":        "查询太频繁，请稍候",
			"busy_retry":        "本网络的查询过于频繁，请在%d秒后再扫码或刷新本页。",
			"busy_again":        "重新查询",
			"refunded":          "已退货退款：本商品所在的采购已全部退货退款，不再计入农户增收",
			"refunds":           "退货退款",
			"refunds_line":      "本次采购%d件中已退货退款%d件（退款按件数，不指明是哪一件）",
		},
		"en": {
			"suspicious":        "Caution: this code is scanned unusually often and may have been copied; check with the selling station",
			"declared_in_error": "Corrected (recorded in error)",
			"busy_title":        "Too many scans: please wait",
			"busy_retry":        "Too many scans from this network. Scan again or reload this page in %d seconds.",
			"busy_again":        "Try again",
			"refunded":          "Returned and refunded: every item of this purchase was returned and refunded, so it no longer adds to the households' income",
			"refunds":           "Returns",
			"refunds_line":      "%d item(s) bought, %d of them returned and refunded (refunds count items, not which ones)",
		},
	}
	for lang, m := range add {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}

package web

// Texts of the 承诺达标合格证 (certificate of compliance): its public page and its section on the
// scan page. The Chinese wording follows the certificate's template; the rule is 农业农村部令2025年第4号.
func init() {
	add := map[Lang]map[string]string{
		"zh": {
			"certificate":     "承诺达标合格证",
			"cert_title":      "承诺达标合格证",
			"cert_serial":     "编号",
			"cert_issuer":     "开具主体",
			"cert_issued_at":  "开具时间",
			"cert_product":    "产品名称",
			"cert_quantity":   "数量（重量）",
			"cert_contact":    "联系方式",
			"cert_corrects":   "更正",
			"cert_commitment": "我承诺对生产销售的食用农产品：",
			"cert_basis":      "承诺依据：",
			"cert_current":    "本合格证有效：由服务站点为本批次开具",
			"cert_superseded": "本合格证已被更正，请以新证为准：",
			"cert_unknown":    "查无此合格证：不是本系统开具的编号",
			"cert_rule":       "依据《农产品质量安全承诺达标合格证管理办法》（农业农村部令2025年第4号）。",
			"cert_kept":       "记录保存至",
		},
		"en": {
			"certificate":     "Certificate of compliance (承诺达标合格证)",
			"cert_title":      "Certificate of compliance (承诺达标合格证)",
			"cert_serial":     "No.",
			"cert_issuer":     "Issued by",
			"cert_issued_at":  "Issued",
			"cert_product":    "Product",
			"cert_quantity":   "Quantity (weight)",
			"cert_contact":    "Contact",
			"cert_corrects":   "Corrects",
			"cert_commitment": "For the produce I sell, I commit to:",
			"cert_basis":      "Based on: ",
			"cert_current":    "Valid: issued by the station for this batch",
			"cert_superseded": "This certificate was corrected; the new one is",
			"cert_unknown":    "No such certificate: this number was not issued by this system",
			"cert_rule":       "Under the Measures for certificates of compliance of agricultural products (MARA Order No. 4 of 2025).",
			"cert_kept":       "Kept until",
		},
	}
	for lang, m := range add {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}

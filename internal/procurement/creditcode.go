package procurement

import (
	"strings"

	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Unified social credit codes (统一社会信用代码) follow GB 32100-2015: 18 characters from a
// 31-symbol set (digits and upper-case letters without I, O, Z, S, V); the last is a check
// character, 31 - (Σ value·weight mod 31), with 31 written as 0.
const creditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// NormalizeCreditCode folds full-width characters and lower case, and strips blanks.
func NormalizeCreditCode(s string) string {
	return strings.ToUpper(strings.ReplaceAll(text.ASCII(s), " ", ""))
}

// CheckCreditCode returns what is wrong with a normalised credit code, or "" when it is valid.
func CheckCreditCode(code string) string {
	if len(code) != 18 {
		return "must be 18 characters"
	}
	for i := 0; i < 18; i++ {
		if strings.IndexByte(creditAlphabet, code[i]) < 0 {
			return "may hold only digits and the letters A-H, J-N, P-R, T, U, W-Y (never I, O, Z, S, V)"
		}
	}
	if CreditCheckChar(code[:17]) != code[17] {
		return "the check character is wrong: re-check the code as printed on the business licence"
	}
	return ""
}

// CreditCheckChar computes the check character for the first 17 characters of a credit code
// (which must be from the code's alphabet).
func CreditCheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(creditAlphabet, first17[i]) * creditWeights[i]
	}
	return creditAlphabet[(31-sum%31)%31]
}

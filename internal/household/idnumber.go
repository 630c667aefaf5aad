package household

import (
	"strings"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Resident ID numbers (公民身份号码) follow GB 11643-1999: six digits of address code, eight of
// birth date (YYYYMMDD), three of sequence and one check character computed by ISO 7064 MOD 11-2
// (weights 2^(17-i) mod 11, check value (12 - sum mod 11) mod 11, 10 written as X).
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// provinces lists the first two digits that GB/T 2260 assigns (mainland, Taiwan, Hong Kong, Macao).
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true, "21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true, "41": true,
	"42": true, "43": true, "44": true, "45": true, "46": true, "50": true, "51": true, "52": true,
	"53": true, "54": true, "61": true, "62": true, "63": true, "64": true, "65": true, "71": true,
	"81": true, "82": true,
}

// NormalizeIDNumber folds full-width characters and a lower-case x, and strips blanks.
func NormalizeIDNumber(s string) string {
	return strings.ToUpper(strings.ReplaceAll(text.ASCII(s), " ", ""))
}

// CheckIDNumber validates a normalised 18-character resident ID number against GB 11643-1999 and
// returns what to fix, or "" when it is valid. now bounds the birth date.
func CheckIDNumber(id string, now time.Time) string {
	if len(id) != 18 {
		return "must be 18 characters (17 digits and a check digit or X)"
	}
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return "the first 17 characters must be digits"
		}
	}
	last := id[17]
	if (last < '0' || last > '9') && last != 'X' {
		return "the last character must be a digit or X"
	}
	if !provinces[id[:2]] {
		return "does not start with a province code (GB/T 2260)"
	}
	birth, err := time.Parse("20060102", id[6:14])
	if err != nil {
		return "characters 7 to 14 are not a real birth date (YYYYMMDD)"
	}
	if birth.Year() < 1900 || birth.After(now) {
		return "the birth date in characters 7 to 14 is out of range"
	}
	if IDCheckChar(id[:17]) != last {
		return "the check character is wrong: re-check the number as typed"
	}
	return ""
}

// IDCheckChar computes the check character of the first 17 digits of a resident ID number.
func IDCheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

package household

import (
	"regexp"
	"strings"

	"github.com/fupinmarket/fupin/internal/platform/text"
)

// excelErrors are the values Excel shows in a cell whose formula failed (a VLOOKUP that found no
// match is #N/A). Read as text they would pass as a name ("#N/A" has letters) or fail with a
// reason that does not say what happened.
var excelErrors = map[string]bool{"#N/A": true, "#REF!": true, "#VALUE!": true, "#DIV/0!": true,
	"#NAME?": true, "#NUM!": true, "#NULL!": true, "#SPILL!": true, "#CALC!": true, "#GETTING_DATA": true}

// cellProblem is what is wrong with a roster cell before its field's own rules are applied: a line
// break, or an Excel error value; "" when nothing is.
func cellProblem(cell string) string {
	if strings.ContainsAny(cell, "\r\n") && strings.ContainsAny(text.Clean(cell), "\r\n") {
		return "holds a line break: names and addresses are one line" // a break at the end is a blank that validate trims
	}
	if c := strings.TrimSpace(cell); len(c) > 1 && c[0] == '#' && excelErrors[strings.ToUpper(c)] { // most cells: one byte compared
		return "is the Excel error " + strings.ToUpper(c) + ": the formula that fills it found nothing; fix it or type the value"
	}
	return ""
}

// asNumber matches an ID number Excel stored as a number, which keeps 15 significant digits: as
// CSV writes it (4.33124197501011E+17) or as the workbook's cell reads (433124197501011000); the
// last digits and a check character X are lost. An ID number that ends in 000 and fails its
// check is almost surely one (a real one ends so once in a thousand, and then its check holds).
var asNumber = regexp.MustCompile(`^(\d(\.\d+)?[eE]\+\d+|\d{15}000)$`)

// statusReason is the roster's reason for a 户类型 it does not know: the names on the roster, not
// the API's.
const statusReason = "must be one of 贫困户, 脱贫户, 脱贫不稳定户, 边缘易致贫户, 突发严重困难户"

// rosterReason is the reason a roster gives for a field error of validate on its row: the same,
// except where the roster's own form says more (the ID number as Excel stored it, the 户类型 names).
func rosterReason(field, reason, cell string) string {
	switch {
	case field == "id_number" && asNumber.MatchString(strings.TrimSpace(cell)):
		return "was stored by Excel as a number (" + strings.TrimSpace(cell) + "), which loses its last digits: format the column as text and type the numbers again"
	case field == "status":
		return statusReason
	}
	return reason
}

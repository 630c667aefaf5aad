package impact

import (
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// DigestAlgorithm says how Digest is made, in every response that carries one.
const DigestAlgorithm = "SHA-256 (hex) of the RFC 8785 canonical JSON of `receipt`"

// Response is a receipt as the API gives it: the body exactly as digested (Receipt, whose
// canonical JSON a third party hashes to get Digest), the stored digest, whether the body still
// hashes to it (DigestMatches, recomputed on every request), the next version's digest if a
// refund superseded this one, and the public page that checks it (the PDF's QR holds that URL).
type Response struct {
	ReceiptID       uuid.UUID       `json:"receipt_id"`
	OrderID         uuid.UUID       `json:"order_id"`
	Version         int             `json:"version"`
	Digest          string          `json:"digest"`
	DigestAlgorithm string          `json:"digest_algorithm"`
	DigestMatches   bool            `json:"digest_matches"`
	SupersededBy    string          `json:"superseded_by,omitempty"`
	PublicURL       string          `json:"public_url"`
	Receipt         json.RawMessage `json:"receipt"`
}

// ToResponse converts an issued receipt; publicURL is where its public page is.
func ToResponse(i Issued, publicURL string) Response {
	return Response{ReceiptID: i.ID, OrderID: i.OrderID, Version: i.Version, Digest: i.Digest, DigestAlgorithm: DigestAlgorithm,
		DigestMatches: i.Intact(), SupersededBy: i.SupersededBy, PublicURL: publicURL, Receipt: json.RawMessage(i.Body)}
}

// CheckClaim compares a digest someone holds (from a PDF, a JSON copy, a QR) with the receipt's:
// "" claims nothing. Errors: Invalid naming "digest" (not 64 hex digits), Conflict naming
// "digest" (well formed, but not this receipt's: the copy was altered, or belongs to another
// receipt or version).
func CheckClaim(i Issued, claimed string) error {
	if claimed == "" {
		return nil
	}
	c := strings.ToLower(claimed)
	if b, err := hex.DecodeString(c); err != nil || len(b) != 32 {
		return apperr.Invalid(apperr.Field("digest", "must be the 64 hexadecimal digits of a SHA-256 digest"))
	}
	if c != i.Digest || !i.Intact() {
		return apperr.ConflictField("digest", "does not match impact receipt %s version %d: the receipt or the digest was altered, "+
			"or the digest belongs to another receipt", i.ID, i.Version)
	}
	return nil
}

package trace

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/skip2/go-qrcode"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// QR symbols for print (ISO/IEC 18004). The symbol holds only the ASCII scan URL, so that it stays
// at a low version (version 3 or 4 for a 40-odd character URL at level M). go-qrcode's Bitmap
// includes the 4-module quiet zone the standard asks for; every module is drawn as a whole number
// of device pixels (PNG) or as an exact square (PDF vector), never stretched by a fraction, which
// decoders read as uneven module widths.

// ECLevel is a QR error-correction level usable on labels: M (15% of codewords recoverable) by
// default, Q (25%) for labels that get scuffed. L is too fragile for print, H makes the symbol
// bigger for no gain on a clean label.
type ECLevel string

// Error-correction levels.
const (
	ECMedium   ECLevel = "M"
	ECQuartile ECLevel = "Q"
)

func (l ECLevel) level() (qrcode.RecoveryLevel, bool) {
	switch l {
	case "", ECMedium:
		return qrcode.Medium, true
	case ECQuartile:
		return qrcode.High, true // go-qrcode's "High" is ISO level Q (25%); its "Highest" is H
	}
	return 0, false
}

// QRBitmap is the module matrix of a URL, quiet zone included: bitmap[y][x] is true for dark.
// Errors: Invalid (field "ec").
func QRBitmap(url string, ec ECLevel) ([][]bool, error) {
	lvl, ok := ec.level()
	if !ok {
		return nil, apperr.Invalid(apperr.Field("ec", "must be M or Q"))
	}
	q, err := qrcode.New(url, lvl)
	if err != nil {
		return nil, fmt.Errorf("trace: encode QR: %w", err)
	}
	return q.Bitmap(), nil
}

// QRPNG draws a bitmap as a size×size PNG with whole pixels per module: the largest whole scale
// that fits, the symbol centred (the spare pixels widen the quiet zone). A size smaller than the
// module count is an Invalid error naming "size" and the smallest size that works.
func QRPNG(bitmap [][]bool, size int) ([]byte, error) {
	m := len(bitmap)
	scale := size / m
	if scale < 1 {
		return nil, apperr.Invalid(apperr.Field("size", "must be at least %d pixels for this code (%d modules with the quiet zone, one pixel each)", m, m))
	}
	off := (size - m*scale) / 2
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	for y, row := range bitmap {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := 0; dy < scale; dy++ {
				line := img.Pix[(off+y*scale+dy)*img.Stride:]
				for dx := 0; dx < scale; dx++ {
					line[off+x*scale+dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

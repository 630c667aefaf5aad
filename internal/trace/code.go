// Package trace is one item, one code (一物一码): batches, traceability codes, their QR labels,
// trace events, and the public scan that tells a buyer where an item came from.
package trace

import (
	"crypto/rand"
	"strings"
)

// A traceability code is 13 Crockford base32 symbols carrying 65 random bits from crypto/rand,
// followed by one check symbol. The check symbol is computed with the Damm algorithm (H. M. Damm,
// 2004) over the quasigroup x∘y = 2x + y in GF(32) (modulus x⁵+x²+1). That quasigroup is totally
// anti-symmetric, so every single wrong symbol and every swap of two adjacent symbols is caught
// before any lookup; Crockford's own mod-37 check would need symbols (*~$=U) that are awkward in
// URLs and on labels.
const (
	alphabet    = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	randomLen   = 13
	CodeLen     = randomLen + 1
	gfPrimitive = 0x25 // x⁵ + x² + 1
)

var symbolValue = func() [256]int8 {
	var v [256]int8
	for i := range v {
		v[i] = -1
	}
	for i := 0; i < len(alphabet); i++ {
		v[alphabet[i]] = int8(i)
	}
	return v
}()

func gfDouble(x byte) byte {
	x <<= 1
	if x&0x20 != 0 {
		x ^= gfPrimitive
	}
	return x
}

// damm folds symbols; a valid code (data and check) folds to zero.
func damm(values []byte) byte {
	var r byte
	for _, d := range values {
		r = gfDouble(r) ^ d
	}
	return r
}

// NewCode returns a fresh random code with its check symbol.
func NewCode() string {
	var raw [9]byte // 72 bits, of which 65 are used
	if _, err := rand.Read(raw[:]); err != nil {
		panic("trace: crypto/rand failed: " + err.Error())
	}
	var out [CodeLen]byte
	vals := make([]byte, randomLen)
	for i := 0; i < randomLen; i++ {
		bit := i * 5
		v := (uint16(raw[bit/8])<<8 | uint16(raw[bit/8+1])) >> (11 - bit%8) & 0x1f
		vals[i] = byte(v)
		out[i] = alphabet[v]
	}
	out[randomLen] = alphabet[gfDouble(damm(vals))]
	return string(out[:])
}

// ParseCode normalises a code as a person might type it (lower case, spaces and hyphens, O for 0,
// I or L for 1) and checks its length, symbols and check symbol. ok is false for anything that
// cannot be one of our codes.
func ParseCode(s string) (code string, ok bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case '-', ' ':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 127 || symbolValue[r] < 0 {
			return "", false
		}
		b.WriteRune(r)
	}
	code = b.String()
	if len(code) != CodeLen {
		return "", false
	}
	vals := make([]byte, CodeLen)
	for i := 0; i < CodeLen; i++ {
		vals[i] = byte(symbolValue[code[i]])
	}
	return code, damm(vals) == 0
}

// FormatCode groups a code for reading aloud and printing: XXXXX-XXXXX-XXXX.
func FormatCode(code string) string {
	if len(code) != CodeLen {
		return code
	}
	return code[:5] + "-" + code[5:10] + "-" + code[10:]
}

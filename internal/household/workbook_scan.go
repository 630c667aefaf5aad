package household

import (
	"bytes"
	"errors"
	"io"
	"unicode/utf8"
)

// scanXML is the damage check's fast path: it reads r to its end and reports true only when what
// it read is in a plain subset of XML that encoding/xml's tokeniser (tokenise) reads without an
// error: elements with ASCII names (at most one colon) and quoted attributes, matched end tags,
// text and attribute values of valid UTF-8 within XML's character range, the five predefined
// entities and character references (excelize writes quotes and line breaks so), one of the usual XML declarations at the very start, and nothing else (no comments,
// CDATA, doctype, other processing instructions or "]]>" in text). It
// reports false for anything outside that subset, damaged or not, and for any read error (the
// zip reader's checksum and size checks come at the part's end): the caller then runs tokenise,
// which decides, with its own message. Every workbook excelize and Excel write is in the subset,
// so a good roster's sheet is read once, byte by byte without allocating, instead of tokenised
// (docs/performance.md, "Roster import streaming": the tokenising was a quarter of an import's
// Go CPU). TestScanXMLAgreesWithTokenise checks "true only if tokenise accepts" over mutations.
func scanXML(r io.Reader) bool { return scanXMLChunks(r, 64<<10) }

// scanXMLChunks is scanXML reading size bytes at a time (tests cut parts at every byte).
func scanXMLChunks(r io.Reader, size int) bool {
	s := xmlScan{state: scanText}
	// The declaration is read whole first: the longest is under 64 bytes.
	head := make([]byte, 64)
	n, err := io.ReadFull(r, head)
	chunk := s.skipDeclaration(head[:n])
	buf := make([]byte, size)
	for chunk != nil {
		if !s.scan(chunk) {
			return false
		}
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return s.end()
		case err != nil:
			return false
		}
		n, err = io.ReadFull(r, buf)
		chunk = buf[:n]
	}
	return false
}

// The XML declarations skipDeclaration accepts at the start of a part, as Excel, WPS and excelize
// write them (encoding/xml accepts version 1.0 and UTF-8 in any case; the rest go to tokenise).
var xmlDeclarations = [][]byte{
	[]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`),
	[]byte(`<?xml version="1.0" encoding="UTF-8" standalone="no"?>`),
	[]byte(`<?xml version="1.0" encoding="UTF-8"?>`),
	[]byte(`<?xml version="1.0" encoding="utf-8"?>`),
	[]byte(`<?xml version="1.0" standalone="yes"?>`),
	[]byte(`<?xml version="1.0"?>`),
}

// skipDeclaration returns the part's first bytes after its XML declaration, or nil when they start
// with another processing instruction.
func (s *xmlScan) skipDeclaration(chunk []byte) []byte {
	if !bytes.HasPrefix(chunk, []byte("<?")) {
		return chunk
	}
	for _, d := range xmlDeclarations {
		if bytes.HasPrefix(chunk, d) {
			return chunk[len(d):]
		}
	}
	return nil
}

type scanState uint8

const (
	scanText      scanState = iota // character data between tags
	scanLT                         // after '<'
	scanStartName                  // in a start tag's name
	scanInTag                      // in a start tag, after its name or an attribute's value
	scanAttrName                   // in an attribute's name
	scanAttrEq                     // after an attribute's '='
	scanAttrValue                  // inside an attribute's quotes
	scanEmptyEnd                   // after a start tag's '/'
	scanEndName                    // in an end tag's name
	scanEndSpace                   // after an end tag's name
	scanEntity                     // after '&', in text or an attribute's value
)

// maxScanEntity bounds the name of an entity or a character reference (&#x10FFFF; is 8).
const maxScanEntity = 12

// maxScanName bounds a name the fast path holds (longer ones go to tokenise).
const maxScanName = 256

// xmlScan is scanXML's state between chunks.
type xmlScan struct {
	state   scanState
	back    scanState // the state an entity returns to
	quote   byte      // the attribute value's quote
	name    []byte    // the name being read
	colons  int       // colons in name
	stack   []byte    // the open elements' names, end to end
	ends    []int     // where each open element's name ends in stack
	entity  []byte    // the entity's name being read
	rune    [utf8.UTFMax]byte
	runeLen int  // bytes of a multi-byte character read so far
	b0, b1  byte // the two bytes before, in text ("]]>" is an error there)
}

// scan reads one chunk; false when it leaves the subset.
func (s *xmlScan) scan(chunk []byte) bool {
	for _, c := range chunk {
		if s.runeLen > 0 {
			if !s.continueRune(c) {
				return false
			}
			continue
		}
		switch s.state {
		case scanText:
			switch {
			case c == '<':
				s.state = scanLT
			case c == '&':
				s.state, s.back, s.entity = scanEntity, scanText, s.entity[:0]
				s.b0, s.b1 = 0, 0
				continue
			case c == '>' && s.b0 == ']' && s.b1 == ']':
				return false
			case !s.char(c):
				return false
			}
			s.b0, s.b1 = s.b1, c
		case scanLT:
			switch {
			case c == '/':
				s.state, s.name, s.colons = scanEndName, s.name[:0], 0
			case nameStart(c):
				s.state, s.name, s.colons = scanStartName, append(s.name[:0], c), 0
			default: // '?', '!' or damage
				return false
			}
		case scanStartName, scanAttrName, scanEndName:
			if nameByte(c) {
				if !s.addName(c) {
					return false
				}
				continue
			}
			if len(s.name) == 0 {
				return false
			}
			switch s.state {
			case scanStartName:
				s.push()
				s.state = scanInTag
				if !s.inTag(c) {
					return false
				}
			case scanAttrName:
				if c != '=' {
					return false
				}
				s.state = scanAttrEq
			case scanEndName:
				switch {
				case c == '>':
					if !s.pop() {
						return false
					}
				case space(c):
					s.state = scanEndSpace
				default:
					return false
				}
			}
		case scanInTag:
			if !s.inTag(c) {
				return false
			}
		case scanAttrEq:
			if c != '"' && c != '\'' {
				return false
			}
			s.state, s.quote = scanAttrValue, c
		case scanAttrValue:
			switch {
			case c == s.quote:
				s.state = scanInTag
			case c == '&':
				s.state, s.back, s.entity = scanEntity, scanAttrValue, s.entity[:0]
			case c == '<' || !s.char(c):
				return false
			}
		case scanEmptyEnd:
			if c != '>' {
				return false
			}
			s.pop() // the element pushed by its name
		case scanEndSpace:
			switch {
			case space(c):
			case c == '>':
				if !s.pop() {
					return false
				}
			default:
				return false
			}
		case scanEntity:
			if c != ';' {
				if len(s.entity) == maxScanEntity {
					return false
				}
				s.entity = append(s.entity, c)
				continue
			}
			switch string(s.entity) {
			case "lt", "gt", "amp", "apos", "quot":
			default:
				if !charRef(s.entity) {
					return false
				}
			}
			s.state = s.back
		}
	}
	return true
}

// inTag reads c after a start tag's name or an attribute's value.
func (s *xmlScan) inTag(c byte) bool {
	switch {
	case space(c):
	case c == '>':
		s.state, s.b0, s.b1 = scanText, 0, 0
	case c == '/':
		s.state = scanEmptyEnd
	case nameStart(c):
		s.state, s.name, s.colons = scanAttrName, append(s.name[:0], c), 0
	default:
		return false
	}
	return true
}

// char checks one byte of text or an attribute's value: a character in XML's range (tab, line
// feed, carriage return and from space up), or the first byte of a multi-byte one.
func (s *xmlScan) char(c byte) bool {
	switch {
	case c >= utf8.RuneSelf:
		s.rune[0], s.runeLen = c, 1
		return true
	case c >= 0x20, c == '\t', c == '\n', c == '\r':
		return true
	}
	return false
}

// continueRune reads the next byte of a multi-byte character, and checks the character once whole.
func (s *xmlScan) continueRune(c byte) bool {
	if s.runeLen == len(s.rune) {
		return false
	}
	s.rune[s.runeLen] = c
	s.runeLen++
	if !utf8.FullRune(s.rune[:s.runeLen]) {
		return true
	}
	r, size := utf8.DecodeRune(s.rune[:s.runeLen])
	if (r == utf8.RuneError && size == 1) || size != s.runeLen || !inXMLRange(r) {
		return false
	}
	s.runeLen = 0
	if s.state == scanText {
		s.b0, s.b1 = s.b1, c
	}
	return true
}

// inXMLRange is encoding/xml's isInCharacterRange for the characters of more than one byte.
func inXMLRange(r rune) bool {
	return r >= 0x80 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= utf8.MaxRune
}

// charRef reports whether e (between '&' and ';') is a character reference to a character in
// XML's range, as encoding/xml reads it: '#', then decimal digits or 'x' and hexadecimal ones.
func charRef(e []byte) bool {
	if len(e) < 2 || e[0] != '#' {
		return false
	}
	digits, base := e[1:], rune(10)
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 {
		return false
	}
	var r rune
	for _, c := range digits {
		var d rune
		switch {
		case '0' <= c && c <= '9':
			d = rune(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && 'A' <= c && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return false
		}
		if r = r*base + d; r > utf8.MaxRune {
			return false
		}
	}
	return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r < utf8.RuneSelf || inXMLRange(r)
}

func (s *xmlScan) addName(c byte) bool {
	if c == ':' {
		s.colons++
		if s.colons > 1 {
			return false
		}
	}
	if len(s.name) == maxScanName {
		return false
	}
	s.name = append(s.name, c)
	return true
}

func (s *xmlScan) push() {
	s.stack = append(s.stack, s.name...)
	s.ends = append(s.ends, len(s.stack))
}

// pop closes the innermost open element, which must be s.name's (after an end tag), and goes
// back to text; false when it is another's or none is open.
func (s *xmlScan) pop() bool {
	if len(s.ends) == 0 {
		return false
	}
	start := 0
	if len(s.ends) > 1 {
		start = s.ends[len(s.ends)-2]
	}
	if s.state != scanEmptyEnd && !bytes.Equal(s.stack[start:], s.name) {
		return false
	}
	s.stack, s.ends = s.stack[:start], s.ends[:len(s.ends)-1]
	s.state, s.b0, s.b1 = scanText, 0, 0
	return true
}

// end reports whether the part may end here: in text, with every element closed.
func (s *xmlScan) end() bool {
	return s.state == scanText && s.runeLen == 0 && len(s.ends) == 0
}

// nameStart: the first byte of a name the fast path reads (encoding/xml allows more, and ':').
func nameStart(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_'
}

// nameByte: encoding/xml's isNameByte (a byte that continues a name).
func nameByte(c byte) bool {
	return nameStart(c) || '0' <= c && c <= '9' || c == ':' || c == '.' || c == '-'
}

func space(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Package pii keeps personal data (names of people, resident ID numbers, phone numbers) encrypted
// at rest with AES-256-GCM and masks it for every response, log line and page.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash"
	"strings"
	"sync"
	"unicode/utf8"
)

// Vault seals and opens personal data with one key, and derives blind indexes for uniqueness.
type Vault struct {
	aead     cipher.AEAD
	indexKey []byte
	// Keyed HMACs for BlindIndex, reset between uses: hmac.New hashes the key into its pads each
	// time, more than the index of a short value costs (a roster import takes two per household).
	macs sync.Pool
}

// NewVault takes the 32-byte DATA_KEY.
func NewVault(key []byte) (*Vault, error) {
	if len(key) != 32 {
		return nil, errors.New("pii: key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// The index key is derived, so that a leaked index cannot be brute-forced with the sealing key.
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("fupin blind index v1"))
	return &Vault{aead: aead, indexKey: mac.Sum(nil)}, nil
}

// Seal encrypts plaintext; the result is nonce || ciphertext || tag. "" seals to nil.
func (v *Vault) Seal(plaintext string) []byte {
	if plaintext == "" {
		return nil
	}
	nonce := make([]byte, v.aead.NonceSize(), v.aead.NonceSize()+len(plaintext)+v.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("pii: crypto/rand failed: " + err.Error())
	}
	return v.aead.Seal(nonce, nonce, []byte(plaintext), nil)
}

// Open decrypts what Seal produced. nil opens to "".
func (v *Vault) Open(sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	n := v.aead.NonceSize()
	if len(sealed) < n+v.aead.Overhead() {
		return "", errors.New("pii: sealed value too short")
	}
	pt, err := v.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", errors.New("pii: cannot decrypt (wrong DATA_KEY?)")
	}
	return string(pt), nil
}

// BlindIndex is a keyed hash of value, stored to enforce uniqueness without storing value.
func (v *Vault) BlindIndex(value string) []byte {
	mac, _ := v.macs.Get().(hash.Hash)
	if mac == nil {
		mac = hmac.New(sha256.New, v.indexKey)
	} else {
		mac.Reset()
	}
	mac.Write([]byte(value))
	sum := mac.Sum(nil)
	v.macs.Put(mac)
	return sum
}

// MaskName keeps the first and last characters of a person's name: 张三 → 张*, 张小三 → 张*三,
// 欧阳小明 → 欧**明.
func MaskName(name string) string {
	r := []rune(name)
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(r[0]) + "*"
	}
	return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
}

// MaskIDNumber keeps the six-digit region prefix and the last four characters of a resident ID
// number: 433124********1234.
func MaskIDNumber(id string) string {
	if utf8.RuneCountInString(id) != len(id) || len(id) < 10 {
		return strings.Repeat("*", utf8.RuneCountInString(id))
	}
	return id[:6] + strings.Repeat("*", len(id)-10) + id[len(id)-4:]
}

// MaskPhone keeps the first three and last four digits: 138****1234.
func MaskPhone(phone string) string {
	if len(phone) < 8 {
		return strings.Repeat("*", len(phone))
	}
	return phone[:3] + strings.Repeat("*", len(phone)-7) + phone[len(phone)-4:]
}

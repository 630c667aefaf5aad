package pii

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
)

func TestSealOpen(t *testing.T) {
	v, err := NewVault(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a, b := v.Seal("433124199001011234"), v.Seal("433124199001011234")
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one value are equal: nonce reused")
	}
	if bytes.Contains(a, []byte("4331241990")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	got, err := v.Open(a)
	if err != nil || got != "433124199001011234" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	a[len(a)-1] ^= 1
	if _, err := v.Open(a); err == nil {
		t.Fatal("tampered ciphertext opened")
	}
	other, _ := NewVault(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(b); err == nil {
		t.Fatal("opened with the wrong key")
	}
	if !bytes.Equal(v.BlindIndex("x"), v.BlindIndex("x")) || bytes.Equal(v.BlindIndex("x"), other.BlindIndex("x")) {
		t.Fatal("blind index must be deterministic per key")
	}
}

func TestMasks(t *testing.T) {
	cases := []struct{ got, want string }{
		{MaskName("张三"), "张*"},
		{MaskName("张小三"), "张*三"},
		{MaskName("欧阳小明"), "欧**明"},
		{MaskName("龙"), "*"},
		{MaskIDNumber("433124199001011234"), "433124********1234"},
		{MaskIDNumber("11010119900307803X"), "110101********803X"},
		{MaskPhone("13812341234"), "138****1234"},
		{MaskPhone("123"), "***"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// BlindIndex reuses keyed HMACs: from several goroutines at once, each index is still the HMAC of
// its value alone under the index key (a reused HMAC that kept a previous value would differ).
func TestBlindIndexReusedConcurrently(t *testing.T) {
	v, err := NewVault(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	want := func(value string) []byte {
		mac := hmac.New(sha256.New, v.indexKey)
		mac.Write([]byte(value))
		return mac.Sum(nil)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				value := fmt.Sprintf("43312419900101%04d", g*1000+i)
				if got := v.BlindIndex(value); !bytes.Equal(got, want(value)) {
					t.Errorf("BlindIndex(%q) = %x, want %x", value, got, want(value))
					return
				}
			}
		}()
	}
	wg.Wait()
}

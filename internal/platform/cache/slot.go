package cache

import (
	"fmt"
	"strings"
)

// Redis Cluster places a key in one of 16384 slots by the CRC16 (XMODEM) of its hash tag: the part
// between the first "{" and the next "}" when that part is not empty, else the whole key (the
// cluster specification, "Keys distribution model"). A Lua script or a multi-key command must
// touch keys of one slot only; keys that share a hash tag always do.
const slots = 16384

// Slot is the cluster slot of key (as Redis Cluster computes it: 0..16383).
func Slot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc = crc<<8 ^ crc16tab[byte(crc>>8)^key[i]]
	}
	return int(crc) % slots
}

// SpreadTags returns n hash tags ("{s0.7}", …) whose slots fall in n equal ranges of the slot
// space, one tag per range: data split over them spreads evenly over the masters, since
// `redis-cli --cluster create` gives each master a contiguous range. Deterministic; n ≤ 16384.
func SpreadTags(n int) []string {
	tags := make([]string, n)
	for i := range n {
		lo, hi := i*slots/n, (i+1)*slots/n
		for j := 0; ; j++ {
			tag := fmt.Sprintf("{s%d.%d}", i, j)
			if s := Slot(tag); s >= lo && s < hi {
				tags[i] = tag
				break
			}
		}
	}
	return tags
}

// crc16tab is CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), the function of the
// specification's Appendix A.
var crc16tab = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

package procurement

import "testing"

func TestCheckCreditCode(t *testing.T) {
	valid := []string{"91350100M000100Y43", "91110000600037341L"}
	for _, c := range valid {
		if why := CheckCreditCode(NormalizeCreditCode(c)); why != "" {
			t.Errorf("%s rejected: %s", c, why)
		}
	}
	if got := NormalizeCreditCode(" ９１３５０１００m000100y43 "); got != "91350100M000100Y43" || CheckCreditCode(got) != "" {
		t.Errorf("normalised to %q", got)
	}
	for _, c := range []string{"91350100M000100Y44", "91350100M000100Y4", "9135010OM000100Y43", "91350100M000I00Y43", "91350100M000100S43"} {
		if CheckCreditCode(c) == "" {
			t.Errorf("%s accepted", c)
		}
	}
}

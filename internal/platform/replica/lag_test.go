package replica

import (
	"testing"
	"time"
)

func TestLagFromWALSamples(t *testing.T) {
	s := &Set{opts: Options{MaxLag: 5 * time.Second}}
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	if got := s.lagAt(100, t0); got <= s.opts.MaxLag {
		t.Fatalf("no sample yet: lag %v, want more than MaxLag (unknown is not served from)", got)
	}
	s.addSample(sample{at: t0, lsn: 100})
	s.addSample(sample{at: t0.Add(time.Second), lsn: 200})
	s.addSample(sample{at: t0.Add(2 * time.Second), lsn: 200}) // idle: the position does not move
	now := t0.Add(2*time.Second + 10*time.Millisecond)
	for _, c := range []struct {
		replay uint64
		want   time.Duration
	}{
		{200, 10 * time.Millisecond},                                            // caught up with an idle primary: no lag
		{250, 10 * time.Millisecond},                                            // ahead of the sample (it was taken first)
		{150, 2*time.Second + 10*time.Millisecond},                              // has the first sample's WAL only
		{100, 2*time.Second + 10*time.Millisecond},                              // exactly the first sample
		{50, max(2*time.Second+10*time.Millisecond, s.opts.MaxLag+time.Second)}, // behind every sample
	} {
		if got := s.lagAt(c.replay, now); got != c.want {
			t.Errorf("replayed to %d: lag %v, want %v", c.replay, got, c.want)
		}
	}
	// Samples older than 3 MaxLag windows (at least 10 s) are dropped, the latest is kept.
	s.addSample(sample{at: t0.Add(time.Minute), lsn: 300})
	if len(s.samples) != 1 || s.samples[0].lsn != 300 {
		t.Fatalf("samples after a minute: %+v", s.samples)
	}
}

func TestReadOnlySQL(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":                              true,
		"\n\t  select * from t":                 true,
		"WITH x AS (SELECT 1) SELECT * FROM x":  true,
		"with\nx as (select 1) select 1":        true,
		"(SELECT 1) UNION (SELECT 2)":           true,
		"-- a comment\nSELECT 1":                true,
		"TABLE products":                        true,
		"VALUES (1)":                            true,
		"UPDATE t SET a = 1 RETURNING a":        false,
		"INSERT INTO t VALUES (1) RETURNING id": false,
		"DELETE FROM t":                         false,
		"SELECTED":                              false,
		"-- only a comment":                     false,
		"":                                      false,
	} {
		if got := readOnly(q); got != want {
			t.Errorf("readOnly(%q) = %v, want %v", q, got, want)
		}
	}
}

func TestParseLSN(t *testing.T) {
	v, err := parseLSN("16/B374D848")
	if err != nil || v != 0x16<<32|0xB374D848 {
		t.Fatalf("parseLSN: %x, %v", v, err)
	}
	if _, err := parseLSN("nonsense"); err == nil {
		t.Fatal("a bad position parsed")
	}
}

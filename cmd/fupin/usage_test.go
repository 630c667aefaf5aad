package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// No command or an unknown one: the usage on stderr, nothing on stdout, exit status 2. Help asked
// for: the usage on stdout, exit 0.
func TestUsageExitStatus(t *testing.T) {
	for _, c := range []struct {
		args     []string
		status   int
		toStdout bool
	}{
		{nil, 2, false},
		{[]string{"frobnicate"}, 2, false},
		{[]string{"--serve"}, 2, false},
		{[]string{"serve", "--bogus"}, 2, false}, // it served on :8080, ignoring the argument
		{[]string{"demo", "extra"}, 2, false},
		{[]string{"verify", "extra"}, 2, false},
		{[]string{"verify", "--full", "extra"}, 2, false},
		{[]string{"verify", "--fast"}, 2, false},
		{[]string{"help"}, 0, true},
		{[]string{"--help"}, 0, true},
	} {
		var stdout, stderr strings.Builder
		got := cli(c.args, &stdout, &stderr)
		where, other := stderr.String(), stdout.String()
		if c.toStdout {
			where, other = other, where
		}
		if got != c.status || !strings.Contains(where, "usage: fupin <command>") || other != "" {
			t.Errorf("fupin %v: exit %d, stdout %q, stderr %q; want exit %d and the usage on one stream only",
				c.args, got, stdout.String(), stderr.String(), c.status)
		}
	}
}

// The built binary exits 2 on an unknown command and on none, printing the usage to stderr.
func TestBinaryUsageExitStatus(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not on PATH to build the binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "fupin")
	if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, args := range [][]string{nil, {"frobnicate"}} {
		cmd := exec.Command(bin, args...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("fupin %v: %v; want exit status 2", args, err)
		}
		if stdout.Len() != 0 || !strings.Contains(stderr.String(), "usage: fupin <command>") {
			t.Errorf("fupin %v: stdout %q, stderr %q; want the usage on stderr only", args, stdout.String(), stderr.String())
		}
	}
}

// A bad month to `fupin report monthly` is named in the error, not answered with the bare usage.
func TestReportMonthlyNamesBadMonth(t *testing.T) {
	var out strings.Builder
	err := run([]string{"report", "monthly", "433124", "2026-13"}, &out)
	if err == nil || !strings.Contains(err.Error(), `"2026-13" is neither a month (YYYY-MM`) {
		t.Errorf("report monthly with month 2026-13: %v; want an error naming it", err)
	}
}

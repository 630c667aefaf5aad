// Package sheettest opens exports in a real spreadsheet program, LibreOffice Calc headless, the
// way a clerk's double-click would, and reads back what it shows. Tests only.
package sheettest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Value is a cell as Calc holds it: its text (numbers unformatted, as 1234.5) and whether it is a
// number (rather than text).
type Value struct {
	Text   string
	Number bool
}

// Calc opens data, the bytes of a file with extension ext ("csv" or "xlsx"), in LibreOffice Calc
// with its default import settings (for CSV: UTF-8, comma-separated, columns detected as they
// are on opening) and returns the first sheet's rows. It fails t when LibreOffice is missing,
// naming the Debian package (scripts/lib.sh installs it for scripts/test.sh).
func Calc(t testing.TB, data []byte, ext string) [][]Value {
	t.Helper()
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Fatal("LibreOffice is needed to open exports as a clerk does: apt-get install libreoffice-calc-nogui")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "export."+ext)
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	args := []string{"--headless", "--norestore", "--nolockcheck",
		"-env:UserInstallation=file://" + filepath.Join(dir, "profile")}
	if ext == "csv" {
		args = append(args, "--infilter=CSV:44,34,76,1")
	}
	// Export: comma, double quote, UTF-8, from line 1, every text cell quoted (so a number is
	// told from text by its missing quotes), values not as shown (1234.5, not 1,234.50).
	args = append(args, "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,true,false,false",
		"--outdir", out, in)
	cmd := exec.Command(soffice, args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("LibreOffice did not finish converting in 3 minutes: %s", log.String())
	}
	got, rerr := os.ReadFile(filepath.Join(out, "export.csv"))
	if err != nil || rerr != nil {
		t.Fatalf("LibreOffice conversion: %v %v: %s", err, rerr, log.String())
	}
	return parse(bytes.TrimPrefix(got, []byte("\ufeff")))
}

// parse reads CSV keeping whether each field was quoted.
func parse(b []byte) [][]Value {
	var rows [][]Value
	var row []Value
	var field []byte
	quoted, inQuotes, started := false, false, false
	end := func() {
		row = append(row, Value{Text: string(field), Number: !quoted && len(field) > 0})
		field, quoted, started = nil, false, false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inQuotes && c == '"' && i+1 < len(b) && b[i+1] == '"':
			field = append(field, '"')
			i++
		case inQuotes && c == '"':
			inQuotes = false
		case inQuotes:
			field = append(field, c)
		case c == '"' && !started:
			inQuotes, quoted, started = true, true, true
		case c == ',':
			end()
		case c == '\r':
		case c == '\n':
			end()
			rows = append(rows, row)
			row = nil
		default:
			field = append(field, c)
			started = true
		}
	}
	if started || len(row) > 0 {
		end()
		rows = append(rows, row)
	}
	return rows
}

// Command soldcodes adds sold codes for the scan benchmark from outside the process
// (scripts/bench-wrk.sh): -n copies of the sold code -like (same batch, same order line, so that
// each one's view is as large as its), written in SQL to DATABASE_URL, and prints them one a line
// in a random order (trace.CopySoldCode). A national campaign is millions of labels each scanned by a few phones: the
// benchmark scans many distinct codes, and the demo sells only a few dozen. BenchmarkScan
// (internal/trace) makes its codes with the same function. It is a main of its own, kept out of the fupin
// binary.
//
//	DATABASE_URL=postgres://… soldcodes -like CODE -n 4000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/trace"
)

func main() {
	like := flag.String("like", "", "a sold code to copy")
	n := flag.Int("n", 4000, "how many codes to add")
	flag.Parse()
	if err := run(*like, *n); err != nil {
		fmt.Fprintln(os.Stderr, "soldcodes:", err)
		os.Exit(1)
	}
}

func run(like string, n int) error {
	if like == "" || n <= 0 {
		return errors.New("-like CODE and -n > 0 are required")
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Pool{MaxOpen: 1, MaxIdle: 1, MaxLifetime: time.Minute})
	if err != nil {
		return err
	}
	codes, err := trace.CopySoldCode(ctx, db, like, n)
	if err != nil {
		return err
	}
	_, err = fmt.Println(strings.Join(codes, "\n"))
	return err
}

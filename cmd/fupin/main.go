// Command fupin is the one binary of Fupin Market:
//
//	fupin serve                    run the HTTP API (fupin serve --help lists the environment)
//	fupin migrate up|down|status   apply, roll back one, or list the SQL migrations
//	fupin demo                     load the demo data (idempotent) and print URLs to try
//	fupin import regions DIR       load the national division files (provinces.csv … villages.csv.gz)
//	fupin import households FILE [--skip-bad-rows] [--county CODE]
//	                               import a roster (XLSX or CSV) of households, upserted by archive number
//	fupin report monthly REGION [YYYY-MM] [--format json|csv|xlsx|html]
//	                               write the monthly report (月报) of an area to stdout
//	fupin verify [--full]          check the ledger since its last checkpoint (--full: re-derive all of it,
//	                               every balance, order attribution and impact receipt); non-zero exit on mismatch
//
// Exit status: 0 on success, 1 when the command fails, 2 when no command or an unknown one is
// given (the usage is then printed to stderr).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/demo"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/impact"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/region"
	"github.com/fupinmarket/fupin/internal/report"
)

const usage = `usage: fupin <command> [arguments]

commands:
  serve                    run the HTTP API on $ADDR
  migrate up|down|status   apply all, roll back one, or list the SQL migrations
  demo                     load the demo data (idempotent) and print URLs to try
  import regions DIR       load the national division files from DIR
  import households FILE [--skip-bad-rows] [--county CODE]
                           import a roster (XLSX or CSV; 户编号, 户主姓名, 身份证号, 联系电话,
                           家庭人口, 所在村, 户类型); all or nothing unless --skip-bad-rows
  verify [--full]          check the ledger against orders since the last checkpoint of verified
                           balances (--full: all of it, impact receipts too); exit 1 on any mismatch
  report monthly REGION [YYYY-MM] [--format json|csv|xlsx|html] [--table areas|products|units]
                           the monthly report (月报) of a county, township or village to stdout

Run 'fupin serve --help' for the environment variables.
`

func main() { os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr)) }

// cli runs a command and returns the exit status: 0 on success, 1 when the command fails, 2 when
// it was not given or is not one of the commands (the usage goes to stderr, nothing to stdout).
func cli(args []string, stdout, stderr io.Writer) int {
	err := run(args, stdout)
	var bad usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &bad):
		fmt.Fprintf(stderr, "fupin: %s\n\n%s", bad.msg, usage)
		return 2
	default:
		fmt.Fprintln(stderr, "fupin:", err)
		return 1
	}
}

// usageError is a command line that names no command the binary has.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// takesNoArgs are the commands whose settings all come from the environment.
var takesNoArgs = map[string]bool{"serve": true, "demo": true}

// commands are the first words run knows.
var commands = map[string]bool{"serve": true, "migrate": true, "demo": true, "import": true, "report": true, "verify": true}

func run(args []string, out io.Writer) error {
	if done, err := checkArgs(args, out); done || err != nil {
		return err
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	// Every command is handed log; the default is set too because trace, the cache and httpx's
	// problem writer still log through the global logger (issue 12: the injected logger
	// everywhere). Delete this line when none does.
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch args[0] {
	case "serve":
		return serve(ctx, cfg, log, out)
	case "migrate":
		return migrate(ctx, cfg, log, args[1:], out)
	case "demo":
		return loadDemo(ctx, cfg, log, out)
	case "import":
		if len(args) >= 3 && args[1] == "households" {
			return importHouseholds(ctx, cfg, log, args[2:], out)
		}
		if len(args) != 3 || args[1] != "regions" {
			return errors.New("usage: fupin import regions DIR | fupin import households FILE [--skip-bad-rows] [--county CODE]")
		}
		return importRegions(ctx, cfg, args[2], out)
	case "report":
		return monthlyReport(ctx, cfg, args[1:], out)
	case "verify":
		return verify(ctx, cfg, len(args) == 2, out)
	}
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

// checkArgs refuses a command line that names no command, or arguments to a command that takes
// none, and answers help; done says nothing is left to run.
func checkArgs(args []string, out io.Writer) (done bool, err error) {
	if len(args) == 0 {
		return true, usageError{"no command given"}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(out, usage)
		return true, nil
	}
	if !commands[args[0]] {
		return true, usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	if len(args) > 1 && (args[1] == "-h" || args[1] == "--help") {
		fmt.Fprint(out, usage+"\n")
		config.Usage(out)
		return true, nil
	}
	// serve and demo take no arguments, verify only --full (settings are environment variables):
	// anything else is a mistake, better refused than ignored (`fupin serve --port 9090` would
	// serve on :8080).
	if args[0] == "verify" && (len(args) > 2 || len(args) == 2 && args[1] != "--full") {
		return true, usageError{fmt.Sprintf("fupin verify takes only --full, not %q", strings.Join(args[1:], " "))}
	}
	if takesNoArgs[args[0]] && len(args) > 1 {
		return true, usageError{fmt.Sprintf("fupin %s takes no arguments (settings are environment variables: fupin %s --help), not %q",
			args[0], args[0], strings.Join(args[1:], " "))}
	}
	return false, nil
}

// loadDemo loads the demo data and prints what to try.
func loadDemo(ctx context.Context, cfg config.Config, log *slog.Logger, out io.Writer) error {
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	sum, err := demo.Load(ctx, a)
	if err != nil {
		return err
	}
	sum.Print(out)
	return nil
}

// importRegions loads the national division files of dir and prints the counts.
func importRegions(ctx context.Context, cfg config.Config, dir string, out io.Writer) error {
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer database.Close(db)
	start := time.Now()
	counts, err := region.Import(ctx, db, dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\nimported in %s\n", counts, time.Since(start).Round(time.Millisecond))
	return nil
}

// verify checks the ledger since its last checkpoint, or all of it (full); any mismatch is an
// error (exit 1).
func verify(ctx context.Context, cfg config.Config, full bool, out io.Writer) error {
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer database.Close(db)
	check := ledger.VerifyRoutine
	if full {
		check = ledger.Verify
	}
	n, err := check(ctx, db, out)
	if err != nil {
		return err
	}
	if full {
		// Every issued impact receipt re-derived from the same ledger (docs/impact.md).
		m, err := impact.NewService(db, ledger.NewService(db), nil).Verify(ctx, out)
		if err != nil {
			return err
		}
		n += m
	}
	if n > 0 {
		return fmt.Errorf("verify: %d mismatches", n)
	}
	return nil
}

// importHouseholds runs a roster import as the command (audit role "command") and prints the
// report: counts, then one line per bad row. A refused file is an error (exit 1).
func importHouseholds(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, out io.Writer) error {
	var opts household.ImportOptions
	path := ""
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--skip-bad-rows":
			opts.SkipBadRows = true
		case "--county":
			if i+1 == len(args) {
				return errors.New("--county needs a 6-digit code")
			}
			i++
			opts.County = args[i]
		default:
			if path != "" {
				return fmt.Errorf("unexpected argument %q", args[i])
			}
			path = args[i]
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	rep, err := a.Households.Import(ctx, household.Command, f, opts)
	for _, e := range rep.Errors {
		fmt.Fprintf(out, "row %d, %s: %s\n", e.Row, e.Column, e.Reason)
	}
	if rep.ErrorsTotal > len(rep.Errors) {
		fmt.Fprintf(out, "... and %d more errors\n", rep.ErrorsTotal-len(rep.Errors))
	}
	fmt.Fprintf(out, "%d rows: %d inserted, %d updated, %d unchanged, %d skipped, %d errors (%s)\n",
		rep.Rows, rep.Inserted, rep.Updated, rep.Unchanged, rep.Skipped, rep.ErrorsTotal, time.Since(start).Round(time.Millisecond))
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindInvalid && rep.ErrorsTotal > 0 {
			return errors.New("nothing imported: fix the rows above, or pass --skip-bad-rows")
		}
		return err
	}
	return nil
}

// monthlyReport writes the monthly report of an area, as the county office sees it.
func monthlyReport(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	const use = "usage: fupin report monthly REGION [YYYY-MM] [--format json|csv|xlsx|html] [--table areas|products|units]"
	if len(args) < 2 || args[0] != "monthly" {
		return errors.New(use)
	}
	region, format, table := args[1], "json", "areas"
	// Last month, from the first of this one: on 31 March, AddDate(0, -1, 0) is 3 March.
	month := report.MonthOf(report.MonthOf(time.Now()).Start().AddDate(0, -1, 0))
	for i := 2; i < len(args); i++ {
		switch {
		case (args[i] == "--format" || args[i] == "--table") && i+1 < len(args):
			if args[i] == "--format" {
				format = args[i+1]
			} else {
				table = args[i+1]
			}
			i++
		default:
			m, ok := report.ParseMonth(args[i])
			if !ok {
				return fmt.Errorf("%q is neither a month (YYYY-MM, e.g. 2026-11) nor --format or --table\n%s", args[i], use)
			}
			month = m
		}
	}
	if !slices.Contains([]string{"json", "csv", "xlsx", "html"}, format) {
		return fmt.Errorf("--format %q: must be json, csv, xlsx or html\n%s", format, use)
	}
	if !slices.Contains([]string{"areas", "products", "units"}, table) {
		return fmt.Errorf("--table %q: must be areas, products or units\n%s", table, use)
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer database.Close(db)
	rep, err := report.NewService(db).MonthlyReport(ctx, household.Command, region, month)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "csv":
		return report.WriteCSV(out, rep, table)
	case "xlsx":
		return report.WriteXLSX(out, rep)
	case "html":
		return report.WriteHTML(out, rep)
	}
	return errors.New(use)
}

func openDB(ctx context.Context, cfg config.Config) (*gorm.DB, error) {
	return database.Open(ctx, cfg.DatabaseURL, database.Pool{MaxOpen: cfg.DBMaxOpenConns, MaxIdle: cfg.DBMaxIdleConns, MaxLifetime: cfg.DBConnLifetime,
		Pooler: database.Pooler(cfg.DBPooler)})
}

func migrate(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: fupin migrate up|down|status")
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer database.Close(db)
	switch args[0] {
	case "up":
		return database.Migrate(ctx, db, log)
	case "down":
		return database.MigrateDown(ctx, db, log)
	case "status":
		return database.MigrationStatus(ctx, db, out)
	}
	return errors.New("usage: fupin migrate up|down|status")
}

// serve runs the HTTP API until SIGTERM or SIGINT. Once the listener is bound it writes
// "listening on http://HOST:PORT" to out with the address actually bound, so that ADDR=127.0.0.1:0
// (any free port, as tests use) tells its callers where to connect.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, out io.Writer) error {
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	srv := &http.Server{Addr: cfg.Addr, Handler: a.Router, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	bound := "http://" + ln.Addr().String()
	stopPprof, err := startPprof(cfg.PprofAddr, log, out)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer stopPprof()
	errc := make(chan error, 1)
	a.Trace.Start()
	go func() { errc <- srv.Serve(ln) }()
	// Unpaid orders expire in the background; the job holds no state, so a restart loses nothing.
	go a.Orders.RunExpiry(ctx, cfg.OrderPayTimeout, min(max(cfg.OrderPayTimeout/10, time.Second), time.Minute), log)
	// So is money owed back to units that the payment provider could not return at once.
	go a.Orders.RunReturns(ctx, cfg.ReturnInterval, log)
	// And failed-login counts that no longer count (platform/auth throttle.go).
	go a.Users.RunPrune(ctx, time.Hour, log)
	log.Info("serving", "addr", ln.Addr().String(), "public_base_url", cfg.PublicBaseURL)
	fmt.Fprintf(out, "listening on %s\n", bound)
	select {
	case err := <-errc:
		// The listener failed: still hand the scan counts held in Redis to PostgreSQL.
		fctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		return errors.Join(err, a.Trace.Stop(fctx))
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	// After the last request: flush the scan counts still held in Redis to PostgreSQL, with a
	// budget of its own (draining may have used all of the first).
	fctx, fcancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer fcancel()
	return errors.Join(err, a.Trace.Stop(fctx))
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel)))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

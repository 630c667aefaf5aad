package trace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// Scan counting. The hot path is one Redis round trip (scanScript): it reads the cached view and
// counts the scan in a per-code hash (t: total scans, p: scans not yet written to PostgreSQL,
// f: first scan, unix ms, c0: distinct clients known to PostgreSQL), adds the client to a
// HyperLogLog of distinct clients and marks the code dirty. A background flusher (RunFlusher, every
// SCAN_FLUSH_INTERVAL) moves the pending counts of dirty codes to PostgreSQL in one statement per
// batch. PostgreSQL stays the record: Redis holds at most one interval of counts, so a crash of the
// process or of Redis loses at most the scans of the last interval; a graceful shutdown flushes
// them (Stop). With Redis down, scans are counted in PostgreSQL directly.
//
// Keys: trace:view:{code}, trace:sc:{code} (hash), trace:cl:{code} (HyperLogLog), trace:dirty
// (set). On Redis Cluster the per-code keys would need a common hash tag and the dirty set
// sharding; this deployment uses one Redis.

const (
	statsKeyPrefix   = "trace:sc:"
	clientsKeyPrefix = "trace:cl:"
	dirtyKey         = "trace:dirty"
	// statsTTL lets an idle code's counters expire from Redis (they were flushed long before) and
	// be re-read from PostgreSQL on its next scan, which also repairs any drift left by scans that
	// were counted in PostgreSQL directly while Redis was down.
	statsTTL   = time.Hour
	flushBatch = 1000
)

// scanScript: KEYS view, stats, dirty, clients; ARGV now_ms, client, code, init_total (” = do
// not initialise), init_first_ms, ttl_s, init_clients. Returns {view|nil, total|nil, first_ms, clients}.
var scanScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 0 then
  if ARGV[4] == '' then return {v, false} end
  redis.call('HSET', KEYS[2], 't', ARGV[4], 'p', 0, 'c0', ARGV[7])
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], 'f', ARGV[5]) end
end
local t = redis.call('HINCRBY', KEYS[2], 't', 1)
redis.call('HINCRBY', KEYS[2], 'p', 1)
redis.call('HSETNX', KEYS[2], 'f', ARGV[1])
if ARGV[2] ~= '' then redis.call('PFADD', KEYS[4], ARGV[2]) end
local cl = redis.call('PFCOUNT', KEYS[4])
local c0 = tonumber(redis.call('HGET', KEYS[2], 'c0') or '0')
if c0 > cl then cl = c0 end
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('EXPIRE', KEYS[4], ARGV[6])
return {v, t, redis.call('HGET', KEYS[2], 'f'), cl}
`)

// takeScript: KEYS stats, clients. Moves the pending count out: returns {pending, first_ms, clients}.
var takeScript = redis.NewScript(`
local p = tonumber(redis.call('HGET', KEYS[1], 'p') or '0')
if p > 0 then redis.call('HINCRBY', KEYS[1], 'p', -p) end
local cl = redis.call('PFCOUNT', KEYS[2])
local c0 = tonumber(redis.call('HGET', KEYS[1], 'c0') or '0')
if c0 > cl then cl = c0 end
return {p, redis.call('HGET', KEYS[1], 'f') or false, cl}
`)

// giveBackScript: KEYS stats, dirty; ARGV pending, code. Returns counts a failed flush took.
var giveBackScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'p', ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[2])
  return 1
end
return 0
`)

// ClientID turns a client address into the opaque value counted for distinct clients: a hash, so
// that no address is stored in Redis or PostgreSQL.
func ClientID(addr string) string {
	if addr == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("fupin-scan-client:" + addr))
	return hex.EncodeToString(sum[:12])
}

// Scan resolves a code for a person who scanned it and counts the scan. Unknown codes return a
// View with VerdictUnknown and a NotFound error. Errors: NotFound, Unavailable.
func (s *Service) Scan(ctx context.Context, code string) (View, error) {
	return s.ScanFrom(ctx, code, "")
}

// ScanFrom is Scan for a client (ClientID of its address; "" when unknown), which feeds the
// distinct-client count of the suspicious verdict.
func (s *Service) ScanFrom(ctx context.Context, code, client string) (View, error) {
	epoch, err := s.currentEpoch(ctx)
	if err != nil {
		return View{}, apperr.DB(err, "code")
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	keys := []string{viewKeyPrefix + code, statsKeyPrefix + code, dirtyKey, clientsKeyPrefix + code}
	ttl := strconv.Itoa(int(statsTTL.Seconds()))
	res, err := s.cache.Eval(ctx, scanScript, keys, now, client, code, "", "", ttl, "0")
	if err != nil {
		return s.scanInPostgres(ctx, code, epoch)
	}
	out, _ := res.([]any)
	var v View
	fresh := false
	if len(out) > 0 {
		if b, ok := out[0].(string); ok {
			v, fresh = s.fresh([]byte(b), epoch)
		}
	}
	if !fresh {
		if v, err = s.loadShared(ctx, code, epoch); err != nil {
			return v, err
		}
	}
	if len(out) < 4 || out[1] == nil {
		// First scan since the counters left Redis: start them from PostgreSQL's record.
		var pg struct {
			ScanCount      int64
			FirstScannedAt *time.Time
			ScanClients    int64
		}
		if err := s.db.WithContext(ctx).Raw(`SELECT scan_count, first_scanned_at, scan_clients FROM trace_codes WHERE code = ?`,
			code).Scan(&pg).Error; err != nil {
			return View{}, apperr.DB(err, "code")
		}
		first := ""
		if pg.FirstScannedAt != nil {
			first = strconv.FormatInt(pg.FirstScannedAt.UnixMilli(), 10)
		}
		res, err = s.cache.Eval(ctx, scanScript, keys, now, client, code, strconv.FormatInt(pg.ScanCount, 10), first, ttl,
			strconv.FormatInt(pg.ScanClients, 10))
		if err != nil {
			return s.countInPostgres(ctx, v, code)
		}
		out, _ = res.([]any)
	}
	if len(out) < 4 {
		return s.countInPostgres(ctx, v, code)
	}
	v.Scans.Count, _ = out[1].(int64)
	if fs, ok := out[2].(string); ok {
		if ms, err := strconv.ParseInt(fs, 10, 64); err == nil {
			t := time.UnixMilli(ms).UTC()
			v.Scans.FirstAt = &t
		}
	}
	v.Scans.Clients, _ = out[3].(int64)
	return s.judge(v), nil
}

// scanInPostgres serves a scan with Redis unavailable: the view from PostgreSQL (loaded once for
// concurrent scans), the count written there directly.
func (s *Service) scanInPostgres(ctx context.Context, code string, epoch int64) (View, error) {
	v, err := s.loadShared(ctx, code, epoch)
	if err != nil {
		return v, err
	}
	return s.countInPostgres(ctx, v, code)
}

func (s *Service) countInPostgres(ctx context.Context, v View, code string) (View, error) {
	sv, err := s.st.countScan(ctx, code)
	if err != nil {
		return View{}, apperr.DB(err, "code")
	}
	v.Scans = sv
	return s.judge(v), nil
}

// judge turns a genuine, sold code scanned too often or from too many clients into a suspicious
// one: a copied label shows up as one code scanned in many places.
func (s *Service) judge(v View) View {
	if v.Verdict == VerdictGenuine && v.Status == StatusSold &&
		(v.Scans.Count > s.cfg.SuspiciousScans || v.Scans.Clients > s.cfg.SuspiciousClients) {
		v.Verdict = VerdictSuspicious
	}
	return v
}

// FlushScans writes the scan counts pending in Redis to PostgreSQL, a batch of codes per
// statement, until no code is dirty. It returns how many scans it wrote. A batch PostgreSQL
// refuses is given back to Redis for the next flush.
func (s *Service) FlushScans(ctx context.Context) (int64, error) {
	var written int64
	for {
		codes, err := s.cache.SPopN(ctx, dirtyKey, flushBatch)
		if err != nil || len(codes) == 0 {
			if errors.Is(err, redis.Nil) {
				err = nil
			}
			return written, err
		}
		var (
			names   []string
			counts  []int64
			firsts  []*time.Time
			clients []int64
		)
		for _, code := range codes {
			res, err := s.cache.Eval(ctx, takeScript, []string{statsKeyPrefix + code, clientsKeyPrefix + code})
			if err != nil {
				return written, fmt.Errorf("take scans of %s: %w", code, err)
			}
			out, _ := res.([]any)
			if len(out) < 3 {
				continue
			}
			n, _ := out[0].(int64)
			cl, _ := out[2].(int64)
			var first *time.Time
			if fs, ok := out[1].(string); ok {
				if ms, err := strconv.ParseInt(fs, 10, 64); err == nil {
					t := time.UnixMilli(ms).UTC()
					first = &t
				}
			}
			if n == 0 && cl == 0 {
				continue
			}
			names, counts, firsts, clients = append(names, code), append(counts, n), append(firsts, first), append(clients, cl)
		}
		if len(names) == 0 {
			continue
		}
		err = s.db.WithContext(ctx).Exec(`UPDATE trace_codes c
			SET scan_count = c.scan_count + d.n,
			    first_scanned_at = coalesce(c.first_scanned_at, d.f),
			    scan_clients = greatest(c.scan_clients, d.cl)
			FROM unnest(?::text[], ?::bigint[], ?::timestamptz[], ?::bigint[]) AS d(code, n, f, cl)
			WHERE c.code = d.code`, textArray(names), intArray(counts), timeArray(firsts), intArray(clients)).Error
		if err != nil {
			for i, code := range names {
				if counts[i] > 0 {
					_, _ = s.cache.Eval(context.WithoutCancel(ctx), giveBackScript, []string{statsKeyPrefix + code, dirtyKey}, counts[i], code)
				}
			}
			return written, apperr.DB(err, "scan counts")
		}
		for _, n := range counts {
			written += n
		}
	}
}

// Array literals for unnest: gorm would expand a Go slice into a list of parameters, so the
// arrays travel as PostgreSQL array literals (codes are [0-9A-Z] and need no quoting).
func textArray(v []string) string { return "{" + strings.Join(v, ",") + "}" }

func intArray(v []int64) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.FormatInt(n, 10)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func timeArray(ts []*time.Time) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = "NULL"
		if t != nil {
			parts[i] = `"` + t.Format(time.RFC3339Nano) + `"`
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// RunFlusher flushes scan counts and refreshes the cache epoch every interval until ctx ends.
func (s *Service) RunFlusher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.FlushScans(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("scan counts not flushed; retrying next interval", "err", err)
		}
		if _, err := s.RefreshEpoch(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("cache epoch not refreshed", "err", err)
		}
	}
}

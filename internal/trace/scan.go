package trace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/database"
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
// Keys: keys.go (one hash tag per shard of codes, for Redis Cluster).

const (
	// statsTTL lets an idle code's counters expire from Redis (they were flushed long before) and
	// be re-read from PostgreSQL on its next scan, which also repairs any drift left by scans that
	// were counted in PostgreSQL directly while Redis was down.
	statsTTL   = time.Hour
	flushBatch = 1000
)

// statsTTLArg is the script's ttl_s argument, boxed once: an interface holding a string
// allocates on each conversion, and a scan's arguments are converted on every scan.
var statsTTLArg any = strconv.Itoa(int(statsTTL.Seconds()))

// scanScript: KEYS view, stats, dirty, clients; ARGV now_ms, code, ttl_s, known (how the cached
// value this process decoded last starts, idPrefix; empty: none), n (the scans counted: a round of
// redisScans), then the round's distinct clients (none, one or more). Returns
// {view|1|nil, total, first_ms, clients}, total with the n scans, or {view|1|nil, false} when the
// code's counters are not in Redis (the caller starts them from PostgreSQL: initCounters, and runs
// the script again). 1 when the cached value still starts with known (its ID), so that a hot
// code's view (2 KB and more) is not sent and decoded with every scan.
//
// Each command a script calls costs Redis 1–1.5 µs (a bare GET costs 0.2), so the hot path keeps
// to six: the counters are read with one HMGET and written with one HSET (the script is atomic, so
// read, add and write is HINCRBY's count), and their lifetime is renewed only by the scan that
// marks the code dirty (SADD answers 1), the first after each flush. A code scanned again and
// again stays dirty for at most one flush interval, far less than statsTTL, so its counters never
// expire with scans pending; an idle code's expire about statsTTL after its last scans, as before.
// Counts stay far below 2^53, where Lua's numbers are exact.
//
// Rolling deploys: the keys and what each field means are those of the one-scan script before it
// (which added to t and p with HINCRBY), so binaries running either count into the same counters
// and either's flusher moves both's scans; a script is known to Redis by its SHA, one per binary.
var scanScript = redis.NewScript(`
local v
if ARGV[4] ~= '' and redis.call('GETRANGE', KEYS[1], 0, #ARGV[4] - 1) == ARGV[4] then
  v = 1
else
  v = redis.call('GET', KEYS[1])
end
local s = redis.call('HMGET', KEYS[2], 't', 'p', 'f', 'c0')
if not s[1] and redis.call('EXISTS', KEYS[2]) == 0 then return {v, false} end
local n = tonumber(ARGV[5])
local t = tonumber(s[1] or '0') + n
local p = tonumber(s[2] or '0') + n
local f = s[3]
if f then
  redis.call('HSET', KEYS[2], 't', t, 'p', p)
else
  f = ARGV[1]
  redis.call('HSET', KEYS[2], 't', t, 'p', p, 'f', f)
end
if #ARGV > 5 then redis.call('PFADD', KEYS[4], unpack(ARGV, 6)) end
local cl = redis.call('PFCOUNT', KEYS[4])
local c0 = tonumber(s[4] or '0')
if c0 > cl then cl = c0 end
if redis.call('SADD', KEYS[3], ARGV[2]) == 1 then
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  redis.call('EXPIRE', KEYS[4], ARGV[3])
end
return {v, t, f, cl}
`)

// takeScript: KEYS dirty, flushing, flush:{id}; ARGV batch size, id, stats key prefix, clients
// key prefix (full Redis names). It pops up to a batch of dirty codes and moves each one's pending
// count, first scan and distinct clients into the hash flush:{id} (code → "n|first_ms|clients"),
// registering id in the flushing set: taking counts and setting them aside is one atomic step, so
// a count is always either pending or set aside, never only in a Go variable. Returns the number
// of codes popped (0: nothing dirty).
var takeScript = redis.NewScript(`
local codes = redis.call('SPOP', KEYS[1], ARGV[1])
for _, code in ipairs(codes) do
  local sk = ARGV[3] .. code
  local p = tonumber(redis.call('HGET', sk, 'p') or '0')
  if p > 0 then redis.call('HINCRBY', sk, 'p', -p) end
  local cl = redis.call('PFCOUNT', ARGV[4] .. code)
  local c0 = tonumber(redis.call('HGET', sk, 'c0') or '0')
  if c0 > cl then cl = c0 end
  if p > 0 or cl > 0 then
    redis.call('HSET', KEYS[3], code, p .. '|' .. (redis.call('HGET', sk, 'f') or '') .. '|' .. cl)
  end
end
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('SADD', KEYS[2], ARGV[2]) end
return #codes
`)

// doneScript: KEYS flush:{id}, flushing; ARGV id. Forgets a batch PostgreSQL holds.
var doneScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
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
	keys := []string{viewKey(code), statsKey(code), dirtyKey(shardOf(code)), clientsKey(code)}
	r, idx := s.countInRedis(ctx, code, client, keys, true)
	if r.err != nil {
		// A reply lost after the script was sent (cache.MaybeRan) may be a scan Redis counted,
		// which the flusher will write: counting it in PostgreSQL too would count it twice. At
		// most once: such a scan is served uncounted (docs/traceability.md, "Counting").
		return s.scanInPostgres(ctx, code, epoch, !cache.MaybeRan(r.err))
	}
	out, _ := r.res.([]any)
	var v View
	fresh := false
	if len(out) > 0 {
		switch b := out[0].(type) {
		case string:
			cv, ok := s.decode(code, []byte(b))
			v, fresh = s.fresh(cv, ok, epoch)
		case int64: // unchanged: the value this process knew when the round ran
			v, fresh = s.fresh(r.known.cv, r.known.prefix != "", epoch)
		}
	}
	switch {
	case fresh && v.Verdict == VerdictUnknown: // remembered as unknown: no database query
		return v, apperr.NotFound("traceability code")
	case !fresh:
		if v, err = s.loadShared(ctx, code, epoch); err != nil {
			return v, err
		}
	}
	if len(out) < 4 || out[1] == nil {
		// First scan since the counters left Redis: start them from PostgreSQL's record, once for
		// all the scans of the code that arrive meanwhile (initCounters), then count this one.
		redisFailed, err := s.initCounters(ctx, code)
		switch {
		case redisFailed:
			return s.countInPostgres(ctx, v, code)
		case err != nil:
			return View{}, apperr.DB(err, "code")
		}
		if r, idx = s.countInRedis(ctx, code, client, keys, false); r.err != nil {
			if cache.MaybeRan(r.err) { // counted in Redis, perhaps: not again here
				return s.judge(v), nil
			}
			return s.countInPostgres(ctx, v, code)
		}
		out, _ = r.res.([]any)
	}
	if len(out) < 4 || out[1] == nil { // the counters left Redis again at once: not worth a second try
		return s.countInPostgres(ctx, v, code)
	}
	total, _ := out[1].(int64)
	v.Scans.Count = total - r.n + idx + 1 // as if the round's scans had been counted one by one
	if fs, ok := out[2].(string); ok {
		if ms, err := strconv.ParseInt(fs, 10, 64); err == nil {
			t := time.UnixMilli(ms).UTC()
			v.Scans.FirstAt = &t
		}
	}
	v.Scans.Clients, _ = out[3].(int64)
	return s.judge(v), nil
}

// countInRedis counts the scan in a round of the code's scans (redisScans) and returns the round,
// run, and the scan's place in it. withKnown tells Redis which cached value this process has
// decoded (so that it answers "unchanged" rather than the value); the round keeps what it told.
// The script goes to Redis with the scripts of other codes (scanBatches), without the leader's
// cancellation: the round is every member's, the batch every round's.
func (s *Service) countInRedis(ctx context.Context, code, client string, keys []string, withKnown bool) (*scanRound, int64) {
	return s.redisScans.add(code, client, func(r *scanRound) {
		if withKnown {
			r.known, _ = s.known(code)
		}
		args := make([]any, 0, 5+len(r.clients))
		// now_ms and n as int64 (go-redis writes them in decimal, as Redis reads them): no string
		// formatted for either, and n (below 256 but for a full round) boxes without an allocation.
		args = append(args, time.Now().UnixMilli(), code, statsTTLArg, r.known.prefix, r.n)
		for _, c := range r.clients {
			args = append(args, c)
		}
		r.res, r.err = s.scanBatches.do(s.cache.Node(ctx, keys[0]), cache.ScriptCall{Keys: keys, Args: args},
			func(calls []cache.ScriptCall) { s.cache.EvalEach(context.WithoutCancel(ctx), scanScript, calls) })
	})
}

// initScript: KEYS stats; ARGV total, first_ms (” = none), clients, ttl_s. Starts a code's
// counters from PostgreSQL's record unless they exist. Returns 1 when it did.
var initScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'p', 0, 'c0', ARGV[3])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'f', ARGV[2]) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
`)

// initCounters starts a code's counters in Redis from PostgreSQL's record, once for every scan of
// the code waiting at the same time (a burst on a cold cache would otherwise read PostgreSQL once
// per scan); a scan arriving after that finds them in Redis and reads nothing. redisFailed says
// Redis did not answer (the caller counts in PostgreSQL); err is PostgreSQL's.
func (s *Service) initCounters(ctx context.Context, code string) (redisFailed bool, err error) {
	type result struct{ redisFailed bool }
	res, err, _ := s.flight.Do("counters:"+code, func() (any, error) {
		ctx := context.WithoutCancel(ctx) // one caller giving up must not fail the others
		n, err := s.cache.Eval(ctx, existsScript, []string{statsKey(code)})
		if err != nil {
			return result{true}, nil
		}
		if n, _ := n.(int64); n == 1 {
			return result{}, nil
		}
		var pg struct {
			ScanCount      int64
			FirstScannedAt *time.Time
			ScanClients    int64
		}
		if err := s.db.WithContext(ctx).Raw(`SELECT scan_count, first_scanned_at, scan_clients FROM trace_codes WHERE code = ?`,
			code).Scan(&pg).Error; err != nil {
			return result{}, err
		}
		first := ""
		if pg.FirstScannedAt != nil {
			first = strconv.FormatInt(pg.FirstScannedAt.UnixMilli(), 10)
		}
		if _, err := s.cache.Eval(ctx, initScript, []string{statsKey(code)}, strconv.FormatInt(pg.ScanCount, 10), first,
			strconv.FormatInt(pg.ScanClients, 10), int(statsTTL.Seconds())); err != nil {
			return result{true}, nil
		}
		return result{}, nil
	})
	if err != nil {
		return false, err
	}
	return res.(result).redisFailed, nil
}

var existsScript = redis.NewScript(`return redis.call('EXISTS', KEYS[1])`)

// scanInPostgres serves a scan with Redis unavailable: the view from PostgreSQL (loaded once for
// concurrent scans), the count written there directly when count is set (else the view shows
// PostgreSQL's count as it is).
func (s *Service) scanInPostgres(ctx context.Context, code string, epoch int64, count bool) (View, error) {
	v, ok := s.recentView(code, epoch)
	if !ok {
		var err error
		if v, err = s.loadShared(ctx, code, epoch); err != nil {
			return v, err
		}
		s.keepRecent(code, epoch, v)
	}
	if !count {
		return s.judge(v), nil
	}
	return s.countInPostgres(ctx, v, code)
}

// While Redis is away, views loaded from PostgreSQL are kept in process for a second (recentTTL),
// under the cache epoch they were loaded in, so that a burst on one code loads its view a few
// times, not once per scan. A change bumps the epoch when Redis cannot be told (Forget), which
// makes them stale at once; Forget also drops them in this process.
const recentTTL = time.Second

type recentView struct {
	v     View
	epoch int64
	at    time.Time
}

func (s *Service) recentView(code string, epoch int64) (View, bool) {
	s.recentMu.Lock()
	defer s.recentMu.Unlock()
	r, ok := s.recent[code]
	if !ok || r.epoch != epoch || time.Since(r.at) > recentTTL {
		return View{}, false
	}
	return r.v, true
}

func (s *Service) keepRecent(code string, epoch int64, v View) {
	s.recentMu.Lock()
	defer s.recentMu.Unlock()
	if s.recent == nil || len(s.recent) >= recentMax {
		s.recent = map[string]recentView{}
	}
	s.recent[code] = recentView{v: v, epoch: epoch, at: time.Now()}
}

// countInPostgres counts a scan in PostgreSQL (Redis unavailable). The scans of one code are
// grouped (pgScans): one UPDATE per code at a time, adding every scan that waited for it, so that
// a burst with Redis timing out costs a few statements per code, not one per scan.
func (s *Service) countInPostgres(ctx context.Context, v View, code string) (View, error) {
	sv, err := s.pgScans.add(code, func(n int64) (ScanView, error) {
		return s.st.countScans(context.WithoutCancel(ctx), code, n)
	})
	if err != nil {
		return View{}, apperr.DB(err, "code")
	}
	v.Scans = sv
	return s.judge(v), nil
}

// pgScans groups the scans of a code counted in PostgreSQL into rounds: at most one UPDATE per
// code is in flight; scans arriving meanwhile join the next round, whose first scan (its leader)
// runs it once the one in flight has ended. Each scan is told its own count, as if counted alone.
type pgScans struct {
	mu   sync.Mutex
	open map[string]*pgRound      // the round of a code still taking scans
	busy map[string]chan struct{} // closed when the code's UPDATE in flight ends
}

type pgRound struct {
	n    int64 // scans joined
	done chan struct{}
	sv   ScanView // after the round's UPDATE: the count with all its scans
	err  error
}

func (b *pgScans) add(code string, run func(n int64) (ScanView, error)) (ScanView, error) {
	b.mu.Lock()
	if b.open == nil {
		b.open, b.busy = map[string]*pgRound{}, map[string]chan struct{}{}
	}
	r := b.open[code]
	leader := r == nil
	if leader {
		r = &pgRound{done: make(chan struct{})}
		b.open[code] = r
	}
	idx := r.n
	r.n++
	prev := b.busy[code]
	b.mu.Unlock()
	if !leader {
		<-r.done
	} else {
		if prev != nil {
			<-prev
		}
		mine := make(chan struct{})
		b.mu.Lock()
		delete(b.open, code) // later scans start the next round
		b.busy[code] = mine
		n := r.n
		b.mu.Unlock()
		r.sv, r.err = run(n)
		r.sv.Count -= n // the count before the round
		b.mu.Lock()
		if b.busy[code] == mine {
			delete(b.busy, code)
		}
		b.mu.Unlock()
		close(mine)
		close(r.done)
	}
	if r.err != nil {
		return ScanView{}, r.err
	}
	sv := r.sv
	sv.Count = max(sv.Count+idx+1, 0) // never below 0, should the code have gone
	return sv, nil
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
// statement, until no code is dirty, and returns how many scans it wrote. Each batch is set aside
// in Redis under an id (takeScript) before it is written, and the write records the id in
// scan_flushes in the same transaction, so a flush cut short anywhere loses nothing and counts
// nothing twice: FlushScans first finishes the batches earlier flushes (of any replica) set aside.
// It flushes every shard (keys.go), going on past a shard that fails (its master down, on a
// cluster). Errors: Unavailable (PostgreSQL), Redis errors, joined; what was not written stays for
// the next flush.
func (s *Service) FlushScans(ctx context.Context) (int64, error) {
	var (
		written int64
		errs    []error
	)
	for _, tag := range shardTags {
		n, err := s.flushShard(ctx, tag)
		written += n
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	return written, errors.Join(errs...)
}

// flushShard is FlushScans for the codes of one shard.
func (s *Service) flushShard(ctx context.Context, tag string) (int64, error) {
	var written int64
	ids, err := s.cache.SMembers(ctx, flushingKey(tag))
	if err != nil {
		return 0, fmt.Errorf("list scan batches set aside: %w", err)
	}
	for _, id := range ids {
		n, err := s.finishFlush(ctx, tag, id)
		written += n
		if err != nil {
			return written, err
		}
	}
	for {
		id := uuid.Must(uuid.NewV7()).String()
		res, err := s.cache.Eval(ctx, takeScript, []string{dirtyKey(tag), flushingKey(tag), flushKey(tag, id)},
			flushBatch, id, s.cache.Key(statsPrefix(tag)), s.cache.Key(clientsPrefix(tag)))
		if err != nil {
			return written, fmt.Errorf("take scan counts: %w", err)
		}
		if popped, _ := res.(int64); popped == 0 {
			return written, nil
		}
		n, err := s.finishFlush(ctx, tag, id)
		written += n
		if err != nil {
			return written, err
		}
	}
}

// finishFlush writes the batch set aside under id to PostgreSQL, unless scan_flushes says it is
// written already, then forgets it in Redis. It returns the scans it wrote.
func (s *Service) finishFlush(ctx context.Context, tag, id string) (int64, error) {
	batch, err := s.cache.HGetAll(ctx, flushKey(tag, id))
	if err != nil {
		return 0, fmt.Errorf("read scan batch %s: %w", id, err)
	}
	var (
		names   []string
		counts  []int64
		firsts  []*time.Time
		clients []int64
		total   int64
	)
	for code, v := range batch {
		parts := strings.Split(v, "|")
		if len(parts) != 3 {
			continue
		}
		n, _ := strconv.ParseInt(parts[0], 10, 64)
		cl, _ := strconv.ParseInt(parts[2], 10, 64)
		var first *time.Time
		if ms, err := strconv.ParseInt(parts[1], 10, 64); err == nil {
			t := time.UnixMilli(ms).UTC()
			first = &t
		}
		names, counts, firsts, clients = append(names, code), append(counts, n), append(firsts, first), append(clients, cl)
		total += n
	}
	written := int64(0)
	if len(names) > 0 {
		err = database.Tx(ctx, s.db, func(tx *gorm.DB) error {
			r := tx.Exec(`INSERT INTO scan_flushes (id) VALUES (?) ON CONFLICT (id) DO NOTHING`, id)
			if r.Error != nil || r.RowsAffected == 0 { // 0: written before (by a flush whose Redis step failed, or another replica)
				return r.Error
			}
			written = total
			return tx.Exec(`UPDATE trace_codes c
				SET scan_count = c.scan_count + d.n,
				    first_scanned_at = coalesce(c.first_scanned_at, d.f),
				    scan_clients = greatest(c.scan_clients, d.cl)
				FROM unnest(?::text[], ?::bigint[], ?::timestamptz[], ?::bigint[]) AS d(code, n, f, cl)
				WHERE c.code = d.code`, textArray(names), intArray(counts), timeArray(firsts), intArray(clients)).Error
		})
		if err != nil {
			return 0, apperr.DB(err, "scan counts")
		}
	}
	if _, err := s.cache.Eval(ctx, doneScript, []string{flushKey(tag, id), flushingKey(tag)}, id); err != nil {
		// PostgreSQL has the batch; the next flush finds it set aside and skips it.
		return written, fmt.Errorf("forget scan batch %s: %w", id, err)
	}
	return written, nil
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

// RunFlusher flushes scan counts and refreshes the cache epoch every interval until ctx ends; once
// an hour it prunes scan_flushes. A flush cut short by ctx leaves its batch set aside for the next
// (Stop's final flush).
func (s *Service) RunFlusher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var pruned time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.FlushScans(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("scan counts not flushed; retrying next interval", "err", err)
		}
		if time.Since(pruned) > time.Hour {
			if err := s.db.WithContext(ctx).Exec(`DELETE FROM scan_flushes WHERE flushed_at < now() - interval '1 day'`).Error; err == nil {
				pruned = time.Now()
			}
		}
		if _, err := s.RefreshEpoch(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cache epoch not refreshed", "err", err)
		}
	}
}

package trace

import "github.com/fupinmarket/fupin/internal/platform/cache"

// Redis keys of the scan path. Every key of a code carries the hash tag of the code's shard (one
// of scanShards, chosen by the code's own slot), and each shard has its own dirty set and its own
// batches set aside: so the scan script (view, counters, distinct clients, dirty set) and the
// flush scripts each touch one slot, as a Redis Cluster requires, and the shards spread evenly over
// the masters (cache.SpreadTags). On one Redis the tags change nothing.
//
//	trace:{s}:view:{code}    the cached view (JSON, cachedView)
//	trace:{s}:sc:{code}      hash: t total scans, p scans not yet in PostgreSQL, f first scan
//	                         (unix ms), c0 distinct clients known to PostgreSQL
//	trace:{s}:cl:{code}      HyperLogLog of distinct clients
//	trace:{s}:dirty          set of the shard's codes with pending counts
//	trace:{s}:flushing       set of ids of the shard's batches set aside (see FlushScans)
//	trace:{s}:flush:{id}     hash: a batch set aside on its way to PostgreSQL
//
// A master lost with its data loses the counts its shards held: at most the scans of one
// SCAN_FLUSH_INTERVAL (docs/scaling.md).
const scanShards = 64

var shardTags = cache.SpreadTags(scanShards)

// shardOf is the hash tag of code's shard.
func shardOf(code string) string { return shardTags[cache.Slot(code)%scanShards] }

func viewKey(code string) string    { return "trace:" + shardOf(code) + ":view:" + code }
func statsKey(code string) string   { return "trace:" + shardOf(code) + ":sc:" + code }
func clientsKey(code string) string { return "trace:" + shardOf(code) + ":cl:" + code }

// Per-shard keys; tag is one of shardTags. statsPrefix and clientsPrefix followed by a code of the
// shard are its statsKey and clientsKey (the flush script builds them from the dirty set).
func dirtyKey(tag string) string      { return "trace:" + tag + ":dirty" }
func flushingKey(tag string) string   { return "trace:" + tag + ":flushing" }
func flushKey(tag, id string) string  { return "trace:" + tag + ":flush:" + id }
func statsPrefix(tag string) string   { return "trace:" + tag + ":sc:" }
func clientsPrefix(tag string) string { return "trace:" + tag + ":cl:" }

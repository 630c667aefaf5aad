package app

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// Sessions on a three-master Redis Cluster: their liveness is cached there (keys on several
// masters), and a password change, which forgets the account's other sessions in one Del across
// slots, ends them at once; /readyz pings every master.
func TestSessionsOnCluster(t *testing.T) {
	rdb, prefix := dbtest.RedisCluster(t, dbtest.SharedCluster)
	a := testAppOn(t, cache.New(rdb, prefix, 250*time.Millisecond))
	admin := fixture.Login(t, a.Router, a.Users, auth.RoleAdmin, nil, nil)
	var me struct{ Username string }
	admin.Do("GET", "/api/v1/auth/me", nil).Want(200).JSON(&me)
	var devices []fixture.Client
	for i := range 12 {
		c := tokenOf(t, a, loginFrom(t, a, "203.0.113."+strconv.Itoa(i+1), me.Username, fixture.Password))
		c.Do("GET", "/api/v1/auth/me", nil).Want(200) // cached as live
		devices = append(devices, c)
	}
	var mu sync.Mutex
	holding := map[string]int{}
	err := rdb.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
		keys, err := m.Keys(ctx, prefix+"session:*").Result()
		mu.Lock()
		holding[m.Options().Addr] = len(keys)
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	masters, sessions := 0, 0
	for _, n := range holding {
		sessions += n
		if n > 0 {
			masters++
		}
	}
	if sessions < 13 || masters < 2 {
		t.Fatalf("session keys per master %v: want the 13 sessions cached on several masters", holding)
	}
	admin.Do("PUT", "/api/v1/auth/password", map[string]string{"current_password": fixture.Password, "new_password": "new secret 2026"}).Want(204)
	for i, c := range devices {
		if r := c.Do("GET", "/api/v1/auth/me", nil); r.Code != 401 {
			t.Errorf("device %d still signed in after the password change: %d", i, r.Code)
		}
	}
	admin.Do("GET", "/api/v1/auth/me", nil).Want(200)

	r := fixture.Client{T: t, H: a.Router}.Do("GET", "/readyz", nil).Want(200)
	if !strings.Contains(r.Body.String(), `"redis":"ok"`) {
		t.Errorf("readyz on the cluster: %s", r.Body.String())
	}
}

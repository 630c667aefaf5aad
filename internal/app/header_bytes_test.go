package app

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// A header value with a control character other than a tab never reaches us: net/http's server
// refuses the request itself, with its own plain-text 400, before any handler (so before gin and
// our problem documents; nothing of ours can answer it). A tab or a byte above 0x7e does reach us,
// and is answered as any malformed header is: a problem naming it (Idempotency-Key), or a 401
// problem (Authorization). Over a real connection, since httptest.NewRequest skips the server.
func TestHeaderBytesOverTheWire(t *testing.T) {
	a := testApp(t)
	admin := fixture.Login(t, a.Router, a.Users, auth.RoleAdmin, nil, nil)
	srv := httptest.NewServer(a.Router)
	defer srv.Close()
	send := func(header string) (*http.Response, string) {
		t.Helper()
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/v1/orders/%s/refunds HTTP/1.1\r\nHost: fupin\r\n%s\r\n"+
			"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", uuid.Must(uuid.NewV7()), header)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	bearer := "Authorization: Bearer " + admin.Token + "\r\n"
	for _, key := range []string{"a\x01b", "a\x7fb", "a\x00b"} {
		resp, body := send(bearer + "Idempotency-Key: " + key)
		if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("Idempotency-Key %q: %d %s %q; net/http no longer refuses it itself: answer it as a problem", key, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	for _, key := range []string{"a\tb", "a\x80b"} {
		resp, body := send(bearer + "Idempotency-Key: " + key)
		if resp.StatusCode != 422 || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, `"Idempotency-Key"`) {
			t.Errorf("Idempotency-Key %q: %d %s %s", key, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	resp, body := send("Authorization: Bearer\t" + admin.Token + "\r\nIdempotency-Key: k")
	if resp.StatusCode != 401 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("Authorization with a tab: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

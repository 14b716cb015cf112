package login

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCappedClient: an answer over the cap fails to read with
// errBodyTooLarge (an IdP sending an endless JWKS cannot exhaust memory);
// one of exactly the cap reads whole.
func TestCappedClient(t *testing.T) {
	const max = 1000
	for _, tc := range []struct {
		size int
		ok   bool
	}{{0, true}, {max, true}, {max + 1, false}, {50 * max, false}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, strings.Repeat("x", tc.size))
		}))
		resp, err := capped(srv.Client(), max).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if tc.ok && (err != nil || len(body) != tc.size) {
			t.Errorf("size %d: read %d bytes, %v; want all of it", tc.size, len(body), err)
		}
		if !tc.ok && (!errors.Is(err, errBodyTooLarge) || len(body) > max) {
			t.Errorf("size %d: read %d bytes, %v; want errBodyTooLarge within %d bytes", tc.size, len(body), err, max)
		}
	}
}

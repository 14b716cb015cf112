package cors

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// TestKelvinOrigin: an Origin with the Kelvin sign (U+212A), which
// Unicode lower-cases to 'k', is not the listed origin with a 'k'.
func TestKelvinOrigin(t *testing.T) {
	p := Policy{Origins: []string{"https://app.keep.example"}, Methods: "POST"}
	r := httptest.NewRequest(http.MethodOptions, "/", nil)
	r.Header.Set("Origin", "https://app.\u212Aeep.example")
	w := httptest.NewRecorder()
	p.Wrap(http.NotFoundHandler()).ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("Kelvin origin: status %d, ACAO %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
}

// asciiLower is the reference lower-casing: A-Z only, byte by byte.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// FuzzAllowOrigin: for any Origin headers, a preflight is allowed exactly
// when there is no Origin or one whose A-Z lower-casing is byte-equal to
// a listed origin, and Access-Control-Allow-Origin, when sent, is
// byte-equal to that listed origin: never an attacker's spelling.
func FuzzAllowOrigin(f *testing.F) {
	f.Add("https://app.keep.example", "", uint8(1))
	f.Add("HTTPS://APP.KEEP.EXAMPLE", "", uint8(1))
	f.Add("https://app.\u212Aeep.example", "", uint8(1))
	f.Add("https://app.keep.example", "https://app.keep.example", uint8(2))
	f.Add("null", "", uint8(1))
	f.Add("", "", uint8(0))
	p := Policy{Origins: []string{"https://app.keep.example", "http://localhost:3000"}, Methods: "POST"}
	h := p.Wrap(http.NotFoundHandler())
	f.Fuzz(func(t *testing.T, o1, o2 string, n uint8) {
		origins := []string{o1, o2}[:n%3]
		r := httptest.NewRequest(http.MethodOptions, "/", nil)
		r.Header["Origin"] = origins
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		acao := w.Header().Get("Access-Control-Allow-Origin")
		want := len(origins) == 0 || (len(origins) == 1 && slices.Contains(p.Origins, asciiLower(origins[0])))
		if got := w.Code == http.StatusNoContent; got != want {
			t.Fatalf("Origin %q: status %d, want allowed=%v", origins, w.Code, want)
		}
		switch {
		case len(origins) == 1 && want:
			if acao != asciiLower(origins[0]) || !slices.Contains(p.Origins, acao) {
				t.Fatalf("Origin %q: ACAO %q", origins, acao)
			}
		case acao != "":
			t.Fatalf("Origin %q: ACAO %q sent", origins, acao)
		}
	})
}

package clientmeta

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckRedirectURI(t *testing.T) {
	long := "https://app.example.com/" + strings.Repeat("a", MaxURILength-len("https://app.example.com/"))
	withJS := Policy{PrivateUseSchemes: []string{"javascript", "data", "file", "vbscript", "myapp"}}
	tests := []struct {
		name   string
		policy Policy
		uri    string
		public bool
		ok     bool
	}{
		{"https", DefaultPolicy(), "https://app.example.com/cb", false, true},
		{"https with port and query", DefaultPolicy(), "https://app.example.com:8443/cb?x=1", false, true},
		{"https IPv6 literal", DefaultPolicy(), "https://[2001:db8::1]/cb", false, true},
		{"exactly the length limit", DefaultPolicy(), long, false, true},
		{"over the length limit", DefaultPolicy(), long + "a", false, false},
		{"loopback IPv4", DefaultPolicy(), "http://127.0.0.1/cb", true, true},
		{"loopback IPv4 with port", DefaultPolicy(), "http://127.0.0.1:3000/callback", true, true},
		{"loopback IPv6 with port", DefaultPolicy(), "http://[::1]:8080/cb", true, true},
		{"localhost with port", DefaultPolicy(), "http://localhost:3000/callback", true, true},
		{"loopback for a confidential client", DefaultPolicy(), "http://127.0.0.1:3000/cb", false, true},
		{"cursor by default, public", DefaultPolicy(), "cursor://anysphere.cursor-retrieval/oauth/callback", true, true},
		{"reverse domain by default, public", DefaultPolicy(), "com.example.app:/oauth2redirect", true, true},
		{"listed scheme, any case", Policy{PrivateUseSchemes: []string{"MyApp"}}, "myapp://cb", true, true},

		{"empty", DefaultPolicy(), "", true, false},
		{"relative", DefaultPolicy(), "/cb", true, false},
		{"no scheme", DefaultPolicy(), "app.example.com/cb", true, false},
		{"fragment", DefaultPolicy(), "https://app.example.com/cb#x", true, false},
		{"empty fragment", DefaultPolicy(), "https://app.example.com/cb#", true, false},
		{"userinfo", DefaultPolicy(), "https://user:pw@app.example.com/cb", true, false},
		{"userinfo disguising the host", DefaultPolicy(), "https://trusted.example@evil.example/cb", true, false},
		{"loopback userinfo", DefaultPolicy(), "http://127.0.0.1@evil.example/cb", true, false},
		{"http to a public host", DefaultPolicy(), "http://app.example.com/cb", true, false},
		{"http to another 127/8 address", DefaultPolicy(), "http://127.0.0.2/cb", true, false},
		{"http localhost in capitals", DefaultPolicy(), "http://LOCALHOST:3000/cb", true, false},
		{"http scheme in capitals", DefaultPolicy(), "HTTP://127.0.0.1/cb", true, false},
		{"loopback-looking name", DefaultPolicy(), "http://127.0.0.1.evil.example/cb", true, false},
		{"localhost-looking name", DefaultPolicy(), "http://localhost.evil.example/cb", true, false},
		{"loopback port 0", DefaultPolicy(), "http://127.0.0.1:0/cb", true, false},
		{"loopback port too big", DefaultPolicy(), "http://127.0.0.1:99999/cb", true, false},
		{"loopback empty port", DefaultPolicy(), "http://127.0.0.1:/cb", true, false},
		{"https port too big", DefaultPolicy(), "https://app.example.com:70000/cb", true, false},
		{"https opaque", DefaultPolicy(), "https:app.example.com", true, false},
		{"https empty host", DefaultPolicy(), "https:///cb", true, false},
		{"https IPv6 zone", DefaultPolicy(), "https://[fe80::1%25eth0]/cb", true, false},
		{"space", DefaultPolicy(), "https://app.example.com/a b", true, false},
		{"angle brackets", DefaultPolicy(), "https://app.example.com/<script>", true, false},
		{"backslash", DefaultPolicy(), `https://app.example.com\@evil.example/`, true, false},
		{"non-ASCII", DefaultPolicy(), "https://app.example.com/é", true, false},
		{"bad escape", DefaultPolicy(), "https://app.example.com/%zz", true, false},
		{"javascript even when listed", withJS, "javascript:alert(1)", true, false},
		{"data even when listed", withJS, "data:text/html,hi", true, false},
		{"file even when listed", withJS, "file:///etc/passwd", true, false},
		{"vbscript even when listed", withJS, "vbscript:msgbox", true, false},
		{"private-use for a confidential client", DefaultPolicy(), "cursor://anysphere.cursor-retrieval/cb", false, false},
		{"listed scheme for a confidential client", withJS, "myapp://cb", false, false},
		{"scheme not on the list", DefaultPolicy(), "myapp://cb", true, false},
		{"zero policy refuses cursor", Policy{}, "cursor://a/cb", true, false},
		{"reverse domain when not allowed", Policy{}, "com.example.app:/cb", true, false},
		{"dot scheme with an empty label", DefaultPolicy(), "com..app:/cb", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.CheckRedirectURI(tt.uri, tt.public)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckRedirectURI(%q, public=%v) = %v, want ok=%v", tt.uri, tt.public, err, tt.ok)
			}
			var e *Error
			if err != nil && (!errors.As(err, &e) || e.Code != CodeInvalidRedirectURI) {
				t.Fatalf("error %v is not an *Error with code %s", err, CodeInvalidRedirectURI)
			}
		})
	}
}

func TestCheckRedirectURIDescriptionDoesNotEchoTheURI(t *testing.T) {
	err := DefaultPolicy().CheckRedirectURI("http://evil.example/<b>x</b>", true)
	if err == nil || strings.Contains(err.Error(), "<b>") || strings.Contains(err.Error(), "evil") {
		t.Fatalf("error %v echoes the submitted URI", err)
	}
}

func TestMatchRedirectURI(t *testing.T) {
	tests := []struct {
		name       string
		registered []string
		requested  string
		ok         bool
	}{
		{"exact https", []string{"https://app.example.com/cb"}, "https://app.example.com/cb", true},
		{"exact among several", []string{"https://a.example/x", "cursor://a/cb"}, "cursor://a/cb", true},
		{"127.0.0.1 port added", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:5000/cb", true},
		{"127.0.0.1 port changed", []string{"http://127.0.0.1:3000/cb"}, "http://127.0.0.1:4000/cb", true},
		{"127.0.0.1 port removed", []string{"http://127.0.0.1:3000/cb"}, "http://127.0.0.1/cb", true},
		{"[::1] port changed", []string{"http://[::1]:3000/cb"}, "http://[::1]:65535/cb", true},
		{"localhost port changed", []string{"http://localhost:3000/callback"}, "http://localhost:51234/callback", true},
		{"loopback with query, port changed", []string{"http://127.0.0.1:1/cb?a=1"}, "http://127.0.0.1:2/cb?a=1", true},
		{"loopback, no path", []string{"http://127.0.0.1"}, "http://127.0.0.1:8080", true},

		{"non-loopback other port", []string{"https://app.example.com/cb"}, "https://app.example.com:8443/cb", false},
		{"https loopback other port", []string{"https://localhost:3000/cb"}, "https://localhost:4000/cb", false},
		{"loopback path differs", []string{"http://127.0.0.1:3000/cb"}, "http://127.0.0.1:4000/other", false},
		{"loopback path prefix", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:4000/cb/x", false},
		{"loopback query differs", []string{"http://127.0.0.1/cb?a=1"}, "http://127.0.0.1:4000/cb?a=2", false},
		{"loopback query added", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:4000/cb?a=1", false},
		{"loopback host differs", []string{"http://127.0.0.1/cb"}, "http://localhost:4000/cb", false},
		{"loopback fragment added", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:4000/cb#x", false},
		{"loopback userinfo", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1@evil.example:4000/cb", false},
		{"loopback port 0", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:0/cb", false},
		{"loopback port too big", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:65536/cb", false},
		{"loopback empty port", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:/cb", false},
		{"loopback signed port", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:+80/cb", false},
		{"trailing slash", []string{"https://app.example.com/cb"}, "https://app.example.com/cb/", false},
		{"case differs", []string{"https://app.example.com/cb"}, "https://APP.example.com/cb", false},
		{"scheme case differs on loopback", []string{"http://127.0.0.1/cb"}, "HTTP://127.0.0.1:4000/cb", false},
		{"percent-encoding differs", []string{"https://app.example.com/a%2Fb"}, "https://app.example.com/a/b", false},
		{"empty request", []string{"https://app.example.com/cb"}, "", false},
		{"nothing registered", nil, "http://127.0.0.1/cb", false},
		{"empty registered entry", []string{""}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := MatchRedirectURI(tt.registered, tt.requested)
			if ok != tt.ok {
				t.Fatalf("MatchRedirectURI(%q, %q) ok = %v, want %v", tt.registered, tt.requested, ok, tt.ok)
			}
			if ok && got != tt.requested {
				t.Fatalf("MatchRedirectURI returned %q, want the requested %q", got, tt.requested)
			}
			if !ok && got != "" {
				t.Fatalf("MatchRedirectURI returned %q on a mismatch", got)
			}
		})
	}
}

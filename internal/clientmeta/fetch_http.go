package clientmeta

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/internal/ascii"
)

// errRedirect stops the client at the first redirect. Draft §4 forbids
// following redirects, and a redirect could point anywhere (an internal
// address, another scheme) after every check on the first URL passed.
var errRedirect = errors.New("redirects are not followed")

// errNotPublic refuses a host with a special-use address (see addr.go).
var errNotPublic = errors.New("the host resolves to a non-public address")

func fetchErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFetch}, args...)...)
}

// fetch performs one fetch of clientID, already checked by checkTarget,
// within ctx's deadline, and validates the document.
func (f *Fetcher) fetch(ctx context.Context, clientID string) (Metadata, time.Time, error) {
	u, err := url.Parse(clientID)
	if err != nil {
		return Metadata{}, time.Time{}, fetchErr("%v", err)
	}
	trusted := f.TrustHost != "" && u.Host == f.TrustHost
	addrs, err := f.resolve(ctx, u.Hostname(), trusted)
	if err != nil {
		return Metadata{}, time.Time{}, err
	}
	resp, err := f.client(u, addrs, trusted).Do(newRequest(ctx, clientID))
	if err != nil {
		return Metadata{}, time.Time{}, fetchErr("%w", err)
	}
	defer resp.Body.Close()
	body, err := f.readDocument(resp)
	if err != nil {
		return Metadata{}, time.Time{}, err
	}
	if err := CheckDepth(body); err != nil {
		return Metadata{}, time.Time{}, err
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return Metadata{}, time.Time{}, invalid("the document is not a JSON object of client metadata")
	}
	if secretMembers(body) {
		return Metadata{}, time.Time{}, invalid("a client ID metadata document must not contain client_secret")
	}
	if err := f.policy().ValidateCIMD(clientID, &m); err != nil {
		return Metadata{}, time.Time{}, err
	}
	return m, f.now().Add(cacheTTL(resp.Header)), nil
}

// resolve looks the host up once and checks every address. One lookup,
// whose answers are then the only addresses dialled, defeats DNS
// rebinding: a name that answers "public" to the check and "10.0.0.1" to
// the connection. Any non-public answer refuses the whole fetch, since we
// cannot know which address a retry would use.
func (f *Fetcher) resolve(ctx context.Context, host string, trusted bool) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else if addrs, err = f.resolver().LookupNetIP(ctx, "ip", host); err != nil {
		return nil, fetchErr("resolving the host: %w", err)
	}
	if len(addrs) == 0 {
		return nil, fetchErr("the host has no addresses")
	}
	for _, a := range addrs {
		if !admitted(a, trusted) {
			return nil, fetchErr("%w", errNotPublic)
		}
	}
	return addrs, nil
}

// client builds a one-use HTTP client pinned to addrs.
func (f *Fetcher) client(u *url.URL, addrs []netip.Addr, trusted bool) *http.Client {
	port := u.Port()
	if port == "" {
		port = "443"
	}
	tlsConf := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if trusted {
		tlsConf.RootCAs = f.TrustCA // nil means the system roots
	}
	tr := &http.Transport{
		// No proxy, ever: a proxy would resolve the name itself and undo
		// the pinning (and HTTPS_PROXY comes from the environment).
		Proxy: nil,
		// The transport's own address argument is ignored: we dial only
		// the addresses resolve checked. TLS still uses the name (SNI and
		// certificate verification), so pinning weakens nothing.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return f.dialPinned(ctx, addrs, port, trusted)
		},
		TLSClientConfig:        tlsConf,
		DisableKeepAlives:      true,     // one request per transport; nothing lingers
		MaxResponseHeaderBytes: 16 << 10, // headers count against the budget too
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return errRedirect },
	}
}

// dialPinned dials the first of addrs that answers. Each address is
// checked again at dial time, not only when resolve looked it up: the
// check and the connection then concern the very same IP literal, so no
// later lookup (DNS rebinding) or code path that skipped resolve can
// reach a private address.
func (f *Fetcher) dialPinned(ctx context.Context, addrs []netip.Addr, port string, trusted bool) (net.Conn, error) {
	dial := f.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	var last error
	for _, a := range addrs {
		if !admitted(a, trusted) {
			return nil, errNotPublic
		}
		conn, err := dial(ctx, "tcp", net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		last = err
	}
	return nil, last
}

func newRequest(ctx context.Context, clientID string) *http.Request {
	// clientID passed CheckClientIDURL, so it parses.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "mcpgate-cimd")
	return req
}

// readDocument checks status and content type and reads at most MaxBytes:
// one byte more is read so that a document of exactly MaxBytes passes and
// anything longer is refused rather than silently truncated into
// different JSON.
func (f *Fetcher) readDocument(resp *http.Response) ([]byte, error) {
	if resp.StatusCode != http.StatusOK { // draft §4: only 200 serves a document
		return nil, fetchErr("HTTP status %d", resp.StatusCode)
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, fetchErr("content type is not application/json")
	}
	limit := f.maxBytes()
	if resp.ContentLength > limit {
		return nil, fetchErr("document larger than %d bytes", limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fetchErr("reading the document: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fetchErr("document larger than %d bytes", limit)
	}
	return body, nil
}

// cacheTTL reads Cache-Control (RFC 9111 §5.2.2): no-store means 0 (keep
// nothing); otherwise max-age clamped to [MinTTL, MaxTTL], with no-cache
// or an invalid max-age counting as 0 (RFC 9111 §4.2.1: stale), and
// DefaultTTL when neither is sent. Expires and Age are not consulted; the
// clamp makes their refinement moot.
//
// The grammar is read exactly, because the document's host writes it:
// directives are separated by commas with only SP and HTAB around them
// (not Unicode spaces); names fold by ASCII only; max-age is
// delta-seconds, 1*DIGIT or the same quoted once (no sign: ParseInt's
// "+600" is not a number here), and a value too large for an integer is
// the largest age, not an error (RFC 9111 §1.2.2); two max-age
// directives that disagree make the response stale (§4.2.1).
func cacheTTL(h http.Header) time.Duration {
	ttl, noCache := DefaultTTL, false
	var first *string // the first max-age value
	for _, line := range h.Values("Cache-Control") {
		for _, d := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(strings.Trim(d, " \t"), "=")
			switch ascii.Lower(name) {
			case "no-store":
				return 0
			case "no-cache":
				noCache = true
			case "max-age":
				if first == nil {
					first = &value
				} else if *first != value {
					noCache = true
				}
				ttl = deltaSeconds(value)
			}
		}
	}
	if noCache {
		ttl = 0
	}
	return min(max(ttl, MinTTL), MaxTTL)
}

// deltaSeconds reads a max-age value (RFC 9111 §1.2.2), capped at MaxTTL;
// 0 when it is not 1*DIGIT, bare or in one pair of quotes.
func deltaSeconds(v string) time.Duration {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" {
		return 0
	}
	var n int64
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0
		}
		if n < int64(MaxTTL/time.Second) {
			n = n*10 + int64(v[i]-'0')
		}
	}
	return min(time.Duration(n)*time.Second, MaxTTL)
}

func hostOf(clientID string) string {
	u, err := url.Parse(clientID)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"slices"
	"strings"
	"sync"

	"github.com/mcpgate/mcpgate/internal/clientip"
)

// forwardState carries what the pipeline decided to the forwarder's
// callbacks, which see only the request.
type forwardState struct {
	principal Principal
	body      []byte // the inspected body; nil for GET and DELETE
	lists     bool   // the body asks for a list: its JSON answer is filtered
	// upstreamSession is the upstream's session ID; clientSession the
	// sealed one the client sent, echoed back unchanged so a client served
	// by several instances always sees one ID.
	upstreamSession, clientSession string
	// id is the id of a body holding one request, for error responses.
	id []byte
	// credential is the value of the upstream's credential header, empty
	// for credentials type none.
	credential string
}

// copyBuffers lends every route's ReverseProxy its response copy buffers.
// Without a pool it allocates 32 KiB per request, which at SPEC PF-1's
// rates was most of the garbage the gateway made.
var copyBuffers = &bufferPool{}

type bufferPool struct{ pool sync.Pool }

const copyBufferSize = 32 << 10

func (p *bufferPool) Get() []byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, copyBufferSize)
}

func (p *bufferPool) Put(b []byte) {
	if cap(b) == copyBufferSize {
		b = b[:copyBufferSize]
		p.pool.Put(&b)
	}
}

type stateKey struct{}

func withState(ctx context.Context, st *forwardState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

// PrincipalFrom returns the verified caller of a forwarded request (the
// stdio bridge caps children per user with it); zero outside the proxy.
func PrincipalFrom(ctx context.Context) Principal {
	if st := stateFrom(ctx); st != nil {
		return st.principal
	}
	return Principal{}
}

func stateFrom(ctx context.Context) *forwardState {
	st, _ := ctx.Value(stateKey{}).(*forwardState)
	return st
}

// fixedStripped are request headers that never reach an upstream (SPEC
// PX-8): the client's token (passing it on would let the upstream replay
// it at every resource it is good for), the gateway's cookies, proxy
// credentials, and client-supplied forwarding headers (an upstream that
// trusts them would believe whatever address the client claims).
var fixedStripped = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Forwarded", "X-Real-Ip",
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port",
	"X-Forwarded-Prefix", "X-Forwarded-Server", "X-Forwarded-Ssl",
	// The client's session ID is the sealed one; the upstream's own ID
	// is set from the binding (session.go).
	HeaderSessionID,
	// Compressed responses could not be filtered; the transport asks for
	// none and the upstream gets no such request from the client either.
	"Accept-Encoding",
}

// strippedHeaders adds this upstream's credential and identity headers to
// the fixed list: a client-sent copy must never arrive as if the gateway
// had vouched for it.
func (rt *route) strippedHeaders() []string {
	out := append([]string(nil), fixedStripped...)
	for _, h := range []string{rt.creds.header(), rt.up.IdentityHeaders.Subject, rt.up.IdentityHeaders.Email, rt.up.IdentityHeaders.Groups} {
		if h != "" {
			out = append(out, textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(h, "_", "-")))
		}
	}
	return out
}

// stripped reports whether a client-sent header must be deleted. Names are
// compared with '_' read as '-': CGI-style servers (and nginx, WSGI,
// PHP) map both X-User and X_User to HTTP_X_USER, so an underscore
// spelling would otherwise pass as the gateway's own header.
func (rt *route) stripped(name string) bool {
	k := textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(name, "_", "-"))
	return strings.HasPrefix(k, "X-Forwarded-") || slices.Contains(rt.strip, k)
}

// rewrite builds the upstream request: the configured URL (never a path or
// query from the client), the inspected body byte for byte, headers
// cleaned, then the gateway's own forwarding, identity and credential
// headers.
func (rt *route) rewrite(pr *httputil.ProxyRequest) {
	st := stateFrom(pr.In.Context())
	target := *rt.target
	pr.Out.URL = &target
	pr.Out.Host = ""
	h := pr.Out.Header
	for k := range h {
		if rt.stripped(k) {
			delete(h, k)
		}
	}
	if st.upstreamSession != "" {
		h.Set(HeaderSessionID, st.upstreamSession)
	}
	// The body is the inspected one, of known length, or none: a GET or
	// DELETE body was never inspected, and trailers would carry headers
	// (the client's token among them) past the stripping above.
	pr.Out.Trailer, pr.Out.TransferEncoding = nil, nil
	h.Del("Upgrade")
	if st.body != nil {
		pr.Out.Body = io.NopCloser(bytes.NewReader(st.body))
		pr.Out.ContentLength = int64(len(st.body))
		pr.Out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(st.body)), nil }
	} else {
		pr.Out.Body, pr.Out.ContentLength, pr.Out.GetBody = nil, 0, nil
	}
	if ip := clientip.From(pr.In); ip != "" {
		h.Set("X-Forwarded-For", ip)
	}
	h.Set("X-Forwarded-Host", rt.p.host)
	h.Set("X-Forwarded-Proto", rt.p.scheme)
	rt.setIdentity(h, st.principal)
	if st.credential != "" {
		h.Set(rt.creds.header(), st.credential)
	}
}

// setIdentity sets the configured identity headers (SPEC PX-8). Values
// with control characters or commas inside a group name are left out
// rather than mangled: the header must say exactly who the caller is or
// nothing.
func (rt *route) setIdentity(h http.Header, pr Principal) {
	ih := rt.up.IdentityHeaders
	if ih.Subject != "" && clean(pr.Subject) {
		h.Set(ih.Subject, pr.Subject)
	}
	if ih.Email != "" && pr.EmailVerified && clean(pr.Email) {
		h.Set(ih.Email, pr.Email)
	}
	if ih.Groups != "" && len(pr.Groups) > 0 {
		var gs []string
		for _, g := range pr.Groups {
			if clean(g) && !strings.Contains(g, ",") {
				gs = append(gs, g)
			}
		}
		if len(gs) > 0 {
			h.Set(ih.Groups, strings.Join(gs, ","))
		}
	}
}

func clean(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// modifyResponse applies the gateway's rules to the upstream's answer:
// cookies and authentication challenges of the upstream never reach the
// client (the upstream is not the resource the client authorized with),
// the security and CORS headers are the gateway's alone,
// the session ID is bound (PX-9), and list results are filtered (PX-7).
func (rt *route) modifyResponse(resp *http.Response) error {
	st := stateFrom(resp.Request.Context())
	resp.Header.Del("Set-Cookie")
	for _, k := range gatewayResponseHeaders {
		resp.Header.Del(k)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return errUpstreamUpgrade
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return errUpstreamRefused
	}
	resp.Header.Del("WWW-Authenticate")
	if err := rt.bindResponseSession(resp, st); err != nil {
		return err
	}
	if resp.StatusCode == http.StatusOK {
		return rt.filterResponse(resp, st)
	}
	return nil
}

func (rt *route) bindResponseSession(resp *http.Response, st *forwardState) error {
	sid := resp.Header.Get(HeaderSessionID)
	if sid == "" {
		return nil
	}
	if sid == st.upstreamSession && st.clientSession != "" {
		resp.Header.Set(HeaderSessionID, st.clientSession)
		return nil
	}
	id, err := rt.sessions.seal(binding{Session: sid, Subject: st.principal.Subject, Client: st.principal.ClientID})
	if err != nil {
		return err
	}
	resp.Header.Set(HeaderSessionID, id)
	return nil
}

var (
	errUpstreamRefused = errors.New("upstream refused the gateway's credentials")
	errUpstreamUpgrade = errors.New("upstream switched protocols")
)

// upstreamError answers a failed forward (SPEC PX-12): 504 when the
// upstream did not answer in time, 502 otherwise, with a JSON-RPC error
// that names no internal address or library error. A client that went
// away gets nothing: there is nobody to answer.
func (rt *route) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	if errors.Is(err, errTooManyStreams) {
		rt.tooManyStreams(w, r)
		return
	}
	var id []byte
	if st := stateFrom(r.Context()); st != nil {
		id = st.id
	}
	var ute *userTokenError
	if errors.As(err, &ute) && stateFrom(r.Context()) != nil {
		rt.userTokenFailed(w, r, stateFrom(r.Context()), ute.err)
		return
	}
	status, code, msg := http.StatusBadGateway, codeServerError, "upstream unavailable"
	var ne net.Error
	switch {
	case errors.Is(err, errUpstreamRefused):
		msg = "upstream refused the gateway's credentials"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		status, code, msg = http.StatusGatewayTimeout, codeTimeout, "upstream timed out"
	}
	rt.p.opts.Log.WarnContext(r.Context(), "upstream request failed", "upstream", rt.up.Name, "status", status, "err", err)
	writeRPCError(w, r, status, id, code, msg)
}

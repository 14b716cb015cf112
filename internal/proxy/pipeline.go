package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/internal/ascii"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/policy"
	"github.com/mcpgate/mcpgate/internal/tokens"
)

// route is one upstream served as a protected resource.
type route struct {
	p        *Proxy
	up       config.Upstream
	auth     Authenticator
	policy   policy.Route
	creds    *credentials
	sessions *sessions
	resource string // public_url + path: the token audience
	prmURL   string
	as       string
	target   *url.URL
	maxBody  int64
	// challengeScopes is the scope= of a 401; scopesSupported goes into PRM.
	challengeScopes, scopesSupported []string
	// strip lists the request headers deleted before forwarding besides
	// the fixed ones (see rewrite).
	strip     []string
	forwarder *httputil.ReverseProxy
}

// ServeHTTP is the request pipeline, the one place every shared step
// happens in order, so no method or upstream kind can skip one (SPEC
// PX-2 to PX-10):
//
//	Host/Origin -> bearer token -> verification -> body inspection ->
//	policy -> session binding -> upstream credentials -> forward.
func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !rt.p.sameOrigin(r) {
		writeRPCError(w, r, http.StatusForbidden, nil, codeForbidden, "origin or host not allowed")
		return
	}
	switch r.Method {
	case http.MethodPost, http.MethodGet, http.MethodDelete:
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeRPCError(w, r, http.StatusMethodNotAllowed, nil, jsonrpc.CodeInvalidRequest, "method not allowed")
		return
	}
	if upgrade(r) {
		// MCP never upgrades; a 101 from the upstream would splice a raw
		// tunnel past every check below.
		writeRPCError(w, r, http.StatusBadRequest, nil, jsonrpc.CodeInvalidRequest, "protocol upgrades are not supported")
		return
	}
	pr, token, ok := rt.authenticate(w, r)
	if !ok {
		return
	}
	var body []byte
	var in jsonrpc.Inspection
	if r.Method == http.MethodPost {
		if body, in, ok = rt.inspect(w, r); !ok {
			return
		}
	}
	if !rt.authorize(w, r, pr, in) {
		return
	}
	if !rt.withinLimits(w, r, pr, in) {
		return
	}
	st := &forwardState{principal: pr, body: body, lists: hasListRequest(in), id: singleID(in)}
	if !rt.unbindSession(w, r, st, st.id) {
		return
	}
	cred, err := rt.creds.value(r.Context(), pr)
	if err != nil && rt.creds.kind == "user_token" {
		rt.userTokenFailed(w, r, st, err)
		return
	}
	if err != nil {
		// Never forward without the configured credential: the upstream
		// would see an anonymous request, or refuse it confusingly.
		rt.p.opts.Log.WarnContext(r.Context(), "upstream credential unavailable", "upstream", rt.up.Name, "err", err)
		writeRPCError(w, r, http.StatusBadGateway, st.id, codeServerError, "upstream credential unavailable")
		return
	}
	st.credential = cred
	ctx, stop := rt.watch(withState(r.Context(), st), r.Method, token, pr)
	defer stop()
	rt.forwarder.ServeHTTP(w, r.WithContext(ctx))
}

// streamRecheck is how often a forwarded request re-checks its token.
const streamRecheck = 5 * time.Second

// watch ends a forwarded request whose authorization lapses while it runs:
// a stream can last far longer than the check at its start (SPEC AS-5a:
// revocation takes effect within seconds). Every request is re-checked
// every streamRecheck and cancelled once its token is revoked. A GET
// stream, which has no natural end, also ends when the token expires or
// becomes invalid in any way, and when the gateway shuts down
// (CloseStreams); the client reconnects with its current token. A POST
// (a tool call that takes long) is not cut merely because the token
// expired during it.
func (rt *route) watch(ctx context.Context, method, token string, pr Principal) (context.Context, func()) {
	var cancel context.CancelFunc
	if method == http.MethodGet && !pr.Expiry.IsZero() {
		// The token's lifetime by the gateway's clock (injected in tests),
		// as a timeout on the real one.
		ctx, cancel = context.WithTimeout(ctx, pr.Expiry.Sub(rt.p.opts.Now()))
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	stopClosing := func() bool { return true }
	if method == http.MethodGet {
		stopClosing = context.AfterFunc(rt.p.closing, cancel)
	}
	var timer *time.Timer
	timer = time.AfterFunc(streamRecheck, func() {
		if ctx.Err() != nil {
			return
		}
		_, err := rt.auth.Authenticate(ctx, token)
		if errors.Is(err, tokens.ErrRevokedToken) || (method == http.MethodGet && errors.Is(err, ErrInvalidToken)) {
			rt.p.opts.Log.InfoContext(ctx, "forwarded request ended: token no longer valid", "upstream", rt.up.Name, "err", err)
			cancel()
			return
		}
		timer.Reset(streamRecheck)
	})
	return ctx, func() {
		timer.Stop()
		stopClosing()
		cancel()
	}
}

// withinLimits applies the MCP rate limits (SPEC RL-1) after policy, so
// only calls the policy allowed count: per user on every request, and per
// user and tool on each tools/call in the body. Over a limit the client
// gets 429 with Retry-After and the RateLimit headers (set by the Guard,
// which also counts and audits the refusal) and a JSON-RPC error.
func (rt *route) withinLimits(w http.ResponseWriter, r *http.Request, pr Principal, in jsonrpc.Inspection) bool {
	g := rt.p.opts.Limits
	if g == nil {
		return true
	}
	var tools []string
	messages := 0
	for _, m := range in.Messages {
		if m.Kind == jsonrpc.KindResponse {
			continue // the client answering the server: not a call
		}
		messages++
		if m.Method == policy.KindTool {
			tools = append(tools, m.Name)
		}
	}
	if g.AllowMCP(w, r, rt.up.Name, pr.Subject, messages, tools) {
		return true
	}
	writeRPCError(w, r, http.StatusTooManyRequests, singleID(in), codeRateLimited, "rate limit exceeded")
	return false
}

// upgrade reports whether the request asks to switch protocols.
func upgrade(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return true
	}
	for _, v := range r.Header.Values("Connection") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// authenticate extracts and verifies the bearer token, answering 401 (no
// or bad token), 400 (a token in the query string or several tokens) or
// 503 (verification cannot decide) itself.
func (rt *route) authenticate(w http.ResponseWriter, r *http.Request) (Principal, string, bool) {
	token, problem := bearerToken(r)
	switch problem {
	case "":
	case errNoToken:
		rt.unauthorized(w, r, "")
		return Principal{}, "", false
	default:
		w.Header().Set("WWW-Authenticate", challenge("invalid_request", rt.prmURL, rt.challengeScopes))
		writeRPCError(w, r, http.StatusBadRequest, nil, codeUnauthorized, problem)
		return Principal{}, "", false
	}
	pr, err := rt.auth.Authenticate(r.Context(), token)
	switch {
	case err == nil:
		return pr, token, true
	case errors.Is(err, ErrUnavailable):
		rt.p.opts.Log.WarnContext(r.Context(), "token verification unavailable", "upstream", rt.up.Name, "err", err)
		w.Header().Set("Retry-After", "1")
		writeRPCError(w, r, http.StatusServiceUnavailable, nil, codeUnavailable, "token verification temporarily unavailable")
	default:
		rt.p.opts.Log.InfoContext(r.Context(), "token refused", "upstream", rt.up.Name, "err", err)
		rt.unauthorized(w, r, "invalid_token")
	}
	return Principal{}, "", false
}

func (rt *route) unauthorized(w http.ResponseWriter, r *http.Request, errCode string) {
	w.Header().Set("WWW-Authenticate", challenge(errCode, rt.prmURL, rt.challengeScopes))
	msg := "authorization required"
	if errCode != "" {
		msg = "invalid or expired token"
	}
	writeRPCError(w, r, http.StatusUnauthorized, nil, codeUnauthorized, msg)
}

const errNoToken = "no token"

// bearerToken returns the request's bearer token (RFC 6750 §2.1) or a
// problem. A token in the query string is refused outright, never used
// (SPEC PX-2): URLs end up in logs, histories and Referer headers.
func bearerToken(r *http.Request) (string, string) {
	if r.URL.RawQuery != "" && r.URL.Query().Has("access_token") {
		return "", "access tokens are accepted only in the Authorization header"
	}
	vals := r.Header.Values("Authorization")
	switch {
	case len(vals) == 0:
		return "", errNoToken
	case len(vals) > 1:
		return "", "more than one Authorization header"
	}
	scheme, token, ok := strings.Cut(vals[0], " ")
	if !ok || !ascii.EqualFold(scheme, "Bearer") {
		return "", errNoToken
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return "", "malformed bearer token"
	}
	// Visible ASCII only (RFC 6750 b64token is narrower still): a space,
	// control or non-ASCII byte is in no issued token, and must not ride
	// on into logs, caches or an introspection request.
	for i := 0; i < len(token); i++ {
		if token[i] < 0x21 || token[i] > 0x7e {
			return "", "malformed bearer token"
		}
	}
	return token, ""
}

// inspect reads the body within the limit and runs the strict JSON-RPC
// inspector on it (SPEC PX-5, PX-6). The caller forwards exactly these
// bytes.
func (rt *route) inspect(w http.ResponseWriter, r *http.Request) ([]byte, jsonrpc.Inspection, bool) {
	body, err := readBody(http.MaxBytesReader(w, r.Body, rt.maxBody), min(r.ContentLength, rt.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeRPCError(w, r, http.StatusRequestEntityTooLarge, nil, codeTooLarge, "request body too large")
		} else {
			writeRPCError(w, r, http.StatusBadRequest, nil, jsonrpc.CodeParseError, "could not read the request body")
		}
		return nil, jsonrpc.Inspection{}, false
	}
	in, err := jsonrpc.Inspect(body)
	if err == nil {
		err = checkHeaders(r.Header, in)
	}
	if err != nil {
		var je *jsonrpc.Error
		code, msg := jsonrpc.CodeInvalidRequest, "invalid JSON-RPC message"
		if errors.As(err, &je) {
			code, msg = je.Code, je.Message
		}
		rt.p.opts.Log.InfoContext(r.Context(), "request body refused", "upstream", rt.up.Name, "err", err)
		writeRPCError(w, r, http.StatusBadRequest, nil, code, msg)
		return nil, jsonrpc.Inspection{}, false
	}
	return body, in, true
}

// readBody reads r to its end into one allocation when the body is as
// long as the sizeHint its Content-Length gave (io.ReadAll would grow its
// buffer several times for a typical call). The hint only sizes the first
// allocation: a client that sends more or less than it declared is read
// as io.ReadAll would read it, and the caller's MaxBytesReader bounds it.
func readBody(r io.Reader, sizeHint int64) ([]byte, error) {
	// The hint is the client's Content-Length: trust it for sizing only up
	// to 64 KiB, or a client could make every request reserve max_body
	// before it sends a byte.
	if sizeHint <= 0 {
		sizeHint = 512
	}
	sizeHint = min(sizeHint, 64<<10)
	b := make([]byte, 0, sizeHint+1) // +1: the read that sees EOF needs room
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// checkHeaders applies the MCP 2026-07-28 header check to a single
// message. A batch cannot be described by one Mcp-Method, so a batch
// carrying one is refused too.
func checkHeaders(h http.Header, in jsonrpc.Inspection) error {
	if !in.Batch {
		return jsonrpc.CheckHeaders(h, in.Messages[0])
	}
	if h.Get(jsonrpc.HeaderMethod) != "" || h.Get(jsonrpc.HeaderName) != "" {
		return &jsonrpc.Error{Code: jsonrpc.CodeHeaderMismatch, Message: "Mcp-Method and Mcp-Name cannot describe a batch"}
	}
	return nil
}

// singleID is the id of a body that is one request, for error responses.
func singleID(in jsonrpc.Inspection) []byte {
	if !in.Batch && len(in.Messages) == 1 {
		return in.Messages[0].ID
	}
	return nil
}

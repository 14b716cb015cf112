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

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/policy"
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
	pr, ok := rt.authenticate(w, r)
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
	// The request is read: lift the server's read deadline, which would
	// otherwise cancel a long SSE stream's context when it expires
	// (net/http's background read reports it as the client going away).
	http.NewResponseController(w).SetReadDeadline(time.Time{})
	st := &forwardState{principal: pr, body: body, lists: hasListRequest(in), id: singleID(in)}
	if !rt.unbindSession(w, r, st, st.id) {
		return
	}
	cred, err := rt.creds.value(r.Context(), pr)
	if err != nil {
		// Never forward without the configured credential: the upstream
		// would see an anonymous request, or refuse it confusingly.
		rt.p.opts.Log.WarnContext(r.Context(), "upstream credential unavailable", "upstream", rt.up.Name, "err", err)
		writeRPCError(w, r, http.StatusBadGateway, st.id, codeServerError, "upstream credential unavailable")
		return
	}
	st.credential = cred
	ctx := withState(r.Context(), st)
	if r.Method == http.MethodGet {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(rt.p.closing, cancel)
		defer stop()
	}
	rt.forwarder.ServeHTTP(w, r.WithContext(ctx))
}

// authenticate extracts and verifies the bearer token, answering 401 (no
// or bad token), 400 (a token in the query string or several tokens) or
// 503 (verification cannot decide) itself.
func (rt *route) authenticate(w http.ResponseWriter, r *http.Request) (Principal, bool) {
	token, problem := bearerToken(r)
	switch problem {
	case "":
	case errNoToken:
		rt.unauthorized(w, r, "")
		return Principal{}, false
	default:
		w.Header().Set("WWW-Authenticate", challenge("invalid_request", rt.prmURL, rt.challengeScopes))
		writeRPCError(w, r, http.StatusBadRequest, nil, codeUnauthorized, problem)
		return Principal{}, false
	}
	pr, err := rt.auth.Authenticate(r.Context(), token)
	switch {
	case err == nil:
		return pr, true
	case errors.Is(err, ErrUnavailable):
		rt.p.opts.Log.WarnContext(r.Context(), "token verification unavailable", "upstream", rt.up.Name, "err", err)
		w.Header().Set("Retry-After", "1")
		writeRPCError(w, r, http.StatusServiceUnavailable, nil, codeUnavailable, "token verification temporarily unavailable")
	default:
		rt.p.opts.Log.InfoContext(r.Context(), "token refused", "upstream", rt.up.Name, "err", err)
		rt.unauthorized(w, r, "invalid_token")
	}
	return Principal{}, false
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
	if r.URL.Query().Has("access_token") {
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
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errNoToken
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", "malformed bearer token"
	}
	return token, ""
}

// inspect reads the body within the limit and runs the strict JSON-RPC
// inspector on it (SPEC PX-5, PX-6). The caller forwards exactly these
// bytes.
func (rt *route) inspect(w http.ResponseWriter, r *http.Request) ([]byte, jsonrpc.Inspection, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rt.maxBody))
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

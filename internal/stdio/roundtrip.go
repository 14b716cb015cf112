package stdio

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// headerSession is the MCP session header (MCP 2025-11-25, basic/transports
// §Session Management).
const headerSession = "Mcp-Session-Id"

// Refusals. Their texts reach the client, so none carries a detail of the
// host, the command or the child.
var (
	errClosed    = errors.New("upstream is shutting down")
	errTooMany   = errors.New("too many upstream sessions, try again later")
	errOwnerFull = errors.New("too many upstream sessions for this user, try again later")
	errGone      = errors.New("session not found")
	errConflict  = errors.New("an event stream is already open for this session")
	errDupID     = errors.New("request id is already in flight in this session")
)

// CodeServerError is the JSON-RPC implementation-defined server error
// (JSON-RPC 2.0 §5.1) used for refusals that are not about the message.
const CodeServerError = -32000

// RoundTrip serves one Streamable HTTP request (MCP 2025-11-25,
// basic/transports §Streamable HTTP) from the session's child.
func (b *Bridge) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && !b.isClosed() {
		return b.post(req) // post reads and closes the body
	}
	// RoundTripper contract: the body is closed even when unread.
	if req.Body != nil {
		req.Body.Close()
	}
	if b.isClosed() {
		return rpcError(req, http.StatusServiceUnavailable, nil, CodeServerError, errClosed.Error()), nil
	}
	switch req.Method {
	case http.MethodGet:
		return b.listen(req), nil
	case http.MethodDelete:
		return b.terminateSession(req), nil
	}
	resp := plain(req, http.StatusMethodNotAllowed, "method not allowed")
	resp.Header.Set("Allow", "GET, POST, DELETE")
	return resp, nil
}

// post writes the body's messages to the child. Only notifications and
// responses: 202. Any request: an event stream that carries each response
// and ends with the last one (basic/transports §Sending Messages to the
// Server).
func (b *Bridge) post(req *http.Request) (*http.Response, error) {
	raw, err := readBody(req, b.maxMsg)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return rpcError(req, http.StatusRequestEntityTooLarge, nil, jsonrpc.CodeInvalidRequest, "request body too large"), nil
		}
		return nil, err
	}
	body, err := parseBody(raw)
	if err != nil {
		e := err.(*jsonrpc.Error)
		return rpcError(req, http.StatusBadRequest, nil, e.Code, e.Message), nil
	}
	id := req.Header.Get(headerSession)
	var s *session
	if id == "" {
		init, ok := body.initialize()
		if !ok {
			return rpcError(req, http.StatusBadRequest, nil, jsonrpc.CodeInvalidRequest, "missing "+headerSession+": only initialize starts a session"), nil
		}
		owner := b.owner(req)
		if s, err = b.startSession(owner); err != nil {
			if errors.Is(err, errOwnerFull) {
				// A digest, as for session IDs: enough to match the
				// user's other log lines, without a subject (often an
				// e-mail address) in every one of these.
				b.log.Warn("stdio per-owner process limit reached", "owner", logTag(owner), "limit", b.perOwn)
			}
			return b.startFailed(req, init.id, err), nil
		}
	} else if s = b.lookup(id); s == nil {
		return notFound(req), nil
	}
	resp, err := s.deliver(req, body)
	switch {
	case err != nil && id == "":
		// The client never learns this session's ID, so nobody else would
		// end it before the idle timeout.
		s.terminate(reasonStartFailed)
		return b.startFailed(req, body[0].id, err), nil
	case err != nil:
		return b.deliverFailed(req, err), nil
	case id == "":
		resp.Header.Set(headerSession, s.id)
	}
	return resp, nil
}

func (b *Bridge) startFailed(req *http.Request, id json.RawMessage, err error) *http.Response {
	switch {
	case errors.Is(err, errClosed), errors.Is(err, errTooMany), errors.Is(err, errOwnerFull):
		return rpcError(req, http.StatusServiceUnavailable, id, CodeServerError, err.Error())
	}
	b.log.Error("stdio child failed to start", "err", err)
	return rpcError(req, http.StatusBadGateway, id, CodeServerError, "upstream failed to start")
}

func (b *Bridge) deliverFailed(req *http.Request, err error) *http.Response {
	switch {
	case errors.Is(err, errGone):
		return notFound(req)
	case errors.Is(err, errDupID):
		return rpcError(req, http.StatusBadRequest, nil, jsonrpc.CodeInvalidRequest, err.Error())
	}
	// The caller's context ended while the child's stdin was full; nobody
	// reads this answer.
	return rpcError(req, http.StatusServiceUnavailable, nil, CodeServerError, "request cancelled")
}

// listen opens the session's one standalone stream for messages that belong
// to no request (basic/transports §Listening for Messages from the Server).
func (b *Bridge) listen(req *http.Request) *http.Response {
	id := req.Header.Get(headerSession)
	if id == "" {
		return plain(req, http.StatusBadRequest, "missing "+headerSession)
	}
	if !acceptsEventStream(req.Header) {
		return plain(req, http.StatusNotAcceptable, "Accept must include text/event-stream")
	}
	s := b.lookup(id)
	if s == nil {
		return notFound(req)
	}
	st, err := s.openListen(req.Context())
	switch {
	case errors.Is(err, errConflict):
		return plain(req, http.StatusConflict, err.Error())
	case err != nil:
		return notFound(req)
	}
	return eventStreamResponse(req, st)
}

// terminateSession ends the session's child at the client's request
// (basic/transports §Session Management: DELETE).
func (b *Bridge) terminateSession(req *http.Request) *http.Response {
	id := req.Header.Get(headerSession)
	if id == "" {
		return plain(req, http.StatusBadRequest, "missing "+headerSession)
	}
	s := b.lookup(id)
	if s == nil {
		return notFound(req)
	}
	b.forget(s)
	s.terminate(reasonDeleted)
	return &http.Response{
		StatusCode: http.StatusNoContent, Status: status(http.StatusNoContent),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: http.NoBody, Request: req,
	}
}

func acceptsEventStream(h http.Header) bool {
	for _, v := range h.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "text/event-stream", "text/*", "*/*":
				return true
			}
		}
	}
	return false
}

var errTooLarge = errors.New("body too large")

func readBody(req *http.Request, limit int) ([]byte, error) {
	if req.Body == nil {
		return nil, nil
	}
	defer req.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(req.Body, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > limit {
		return nil, errTooLarge
	}
	return raw, nil
}

func eventStreamResponse(req *http.Request, st *eventStream) *http.Response {
	h := http.Header{}
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	return &http.Response{
		StatusCode: http.StatusOK, Status: status(http.StatusOK),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: st, ContentLength: -1, Request: req,
	}
}

// notFound is a bare 404: the status alone tells the client that the
// session is gone and that it must initialize again (basic/transports
// §Session Management); a JSON-RPC error body with an id would read as the
// refusal of one call instead.
func notFound(req *http.Request) *http.Response {
	return plain(req, http.StatusNotFound, errGone.Error())
}

func plain(req *http.Request, code int, msg string) *http.Response {
	return withBody(req, code, "text/plain; charset=utf-8", []byte(msg+"\n"))
}

// rpcError answers with a JSON-RPC error object; id is the request's when
// the refusal is about one request, null otherwise.
func rpcError(req *http.Request, code int, id json.RawMessage, rpcCode int, msg string) *http.Response {
	if id == nil {
		id = json.RawMessage("null")
	}
	type rpcErr struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	body, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   rpcErr          `json:"error"`
	}{"2.0", id, rpcErr{rpcCode, msg}})
	return withBody(req, code, "application/json", body)
}

func withBody(req *http.Request, code int, contentType string, body []byte) *http.Response {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return &http.Response{
		StatusCode: code, Status: status(code),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(strings.NewReader(string(body))),
		ContentLength: int64(len(body)), Request: req,
	}
}

func status(code int) string { return strconv.Itoa(code) + " " + http.StatusText(code) }

package audit

import (
	"errors"
	"fmt"
	"time"
)

// EventType names a security event (SPEC AU-1). The set is closed: Record
// refuses any other value, so a typo cannot create an event nobody alerts
// on, and the metrics label built from it stays bounded.
type EventType string

// The event catalogue (SPEC AU-1), plus the server lifecycle.
const (
	OAuthFlowStarted          EventType = "oauth_flow_started"
	OAuthFlowCompleted        EventType = "oauth_flow_completed"
	OAuthFlowFailed           EventType = "oauth_flow_failed"
	ConsentGranted            EventType = "consent_granted"
	ConsentRevoked            EventType = "consent_revoked"
	ClientRegistered          EventType = "client_registered"
	TokenIssued               EventType = "token_issued"
	TokenRefreshed            EventType = "token_refreshed"
	TokenRevoked              EventType = "token_revoked"
	RefreshTokenReuseDetected EventType = "refresh_token_reuse_detected"
	SessionCreated            EventType = "session_created"
	SessionTerminated         EventType = "session_terminated"
	LoginFailed               EventType = "login_failed"
	RateLimitExceeded         EventType = "rate_limit_exceeded"
	ToolCallAllowed           EventType = "tool_call_allowed"
	ToolCallDenied            EventType = "tool_call_denied"
	KeyRotated                EventType = "key_rotated"
	AdminAction               EventType = "admin_action"
	SuspiciousActivity        EventType = "suspicious_activity"
	ServerStarted             EventType = "server_started"
	ServerStopped             EventType = "server_stopped"
)

// catalogue lists every EventType. A test parses this package's source to
// make sure no constant is missing from it.
var catalogue = [...]EventType{
	OAuthFlowStarted, OAuthFlowCompleted, OAuthFlowFailed,
	ConsentGranted, ConsentRevoked,
	ClientRegistered,
	TokenIssued, TokenRefreshed, TokenRevoked, RefreshTokenReuseDetected,
	SessionCreated, SessionTerminated,
	LoginFailed, RateLimitExceeded,
	ToolCallAllowed, ToolCallDenied,
	KeyRotated, AdminAction, SuspiciousActivity,
	ServerStarted, ServerStopped,
}

var validTypes = func() map[EventType]bool {
	m := make(map[EventType]bool, len(catalogue))
	for _, t := range catalogue {
		m[t] = true
	}
	return m
}()

// Types returns every event type, in catalogue order. The slice is a copy.
func Types() []EventType { return append([]EventType(nil), catalogue[:]...) }

// Valid reports whether t is in the catalogue.
func (t EventType) Valid() bool { return validTypes[t] }

// Risk scores run from MinRisk (nothing unusual) to MaxRisk (SPEC AU-1, AU-3).
const (
	MinRisk = 0
	MaxRisk = 100
)

// Errors returned by Validate and Record.
var (
	ErrInvalidType = errors.New("audit: event type not in the catalogue")
	ErrInvalidRisk = errors.New("audit: risk score outside 0-100")
	ErrClosed      = errors.New("audit: recorder closed")
)

// Event is one security event (SPEC AU-1). It never carries a secret: no
// token, code, password, cookie or assertion in any field (see Details).
//
// Its canonical JSON (MarshalCanonical) is what a hash-chained store will
// hash (SPEC AU-2, storage.AuditRecord.Data), so the encoding is fixed.
type Event struct {
	// Time is when the event happened, in UTC. Record fills it when zero.
	Time time.Time
	// ID is unique per event and sorts by time (a UUIDv7). Record fills it
	// when empty; Multi fills it once so every sink gets the same ID.
	ID   string
	Type EventType
	// User is the subject the event is about, as the IdP names it.
	User string
	// Session is the refresh family (the token's sid) or browser session
	// record ID. Never a bearer value such as a cookie.
	Session   string
	Client    string // OAuth client ID
	IP        string // client IP after trusted-proxy resolution
	UserAgent string
	Provider  string // upstream identity provider ID
	RequestID string // matches the operational log line and error bodies
	// Details holds event-specific facts (scopes, reasons, tool names).
	//
	// It is a map rather than json.RawMessage because Record must look
	// inside to redact secret-looking keys, and the canonical encoding sorts
	// map keys at every depth; raw bytes would be opaque to both. Values of
	// other types (structs, typed maps) are normalised to plain JSON values
	// on Record so that redaction sees their fields too.
	//
	// Keys containing "token", "secret", "password", "code", "assertion",
	// "cookie", "authorization" (and a few more, see secretMarkers) are
	// redacted, so name facts accordingly: "jti", "family", "status".
	Details map[string]any
	// Risk is the risk score, MinRisk to MaxRisk. Record clamps it.
	Risk int
}

// Validate reports whether e can be recorded as it is.
func (e Event) Validate() error {
	if !e.Type.Valid() {
		return fmt.Errorf("%w: %q", ErrInvalidType, e.Type)
	}
	if e.Risk < MinRisk || e.Risk > MaxRisk {
		return fmt.Errorf("%w: %d", ErrInvalidRisk, e.Risk)
	}
	return nil
}

// ClampRisk forces a score into MinRisk..MaxRisk. Detection sums weighted
// signals, which may overshoot; a score out of range is a bug in a rule,
// and dropping the event over it would hide exactly what the rule saw.
func ClampRisk(r int) int { return min(max(r, MinRisk), MaxRisk) }

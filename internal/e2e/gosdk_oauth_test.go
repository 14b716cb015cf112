package e2e

import (
	"strconv"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/demoupstream"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// The acceptance test of the MCP proxy: the go-sdk's own OAuth client
// (auth.AuthorizationCodeHandler on mcp.StreamableClientTransport) finds
// its way from a bare 401 to a tool call knowing nothing but the MCP URL,
// then steps up on 403 insufficient_scope (MCP authorization, step-up
// flow; RFC 6750 §3.1). Each test runs over http and https: the go-sdk
// accepts plain http only on loopback, https is what deployments see.

// Hops of the AS and metadata endpoints, as the recorder labels them.
const (
	prmHop   = "GET /.well-known/oauth-protected-resource" + testenv.FilesPath + " -> 200"
	asmHop   = "GET /.well-known/oauth-authorization-server -> 200"
	regHop   = "POST /oauth/register -> 201"
	tokenHop = "POST /oauth/token -> 200"
)

// mcpHop is a POST to the MCP endpoint carrying the JSON-RPC rpc.
func mcpHop(rpc string, status int) string {
	return "POST " + testenv.FilesPath + " " + rpc + " -> " + strconv.Itoa(status)
}

var adminCall = "tools/call " + demoupstream.AdminTool

// flavour is how the client registers, and what follows from it.
type flavour struct {
	reg []registration
	// dcr: the go-sdk registers anew on every authorization (it keeps no
	// registration between Authorize calls), so a step-up brings a token
	// for another client_id. The MCP session is bound to the (subject,
	// client) that opened it (SPEC PX-9), so the retried call gets 404 and
	// the client must open a new session.
	dcr bool
}

// authorizationHops is one go-sdk authorization after a challenge:
// resource metadata, AS metadata, registration (DCR) and code exchange.
// For a CIMD client the go-sdk leaves the token endpoint auth style unset,
// so x/oauth2 auto-detects it: HTTP Basic with an empty secret first,
// which the gateway refuses (401 invalid_client: it accepts exactly the
// registered method, here "none"), then client_id in the form.
func (f flavour) authorizationHops() []string {
	if f.dcr {
		return []string{prmHop, asmHop, regHop, tokenHop}
	}
	return []string{prmHop, asmHop, "POST /oauth/token -> 401", tokenHop}
}

// stepUpHops is a call refused for insufficient scope and the step-up
// authorization it starts.
func (f flavour) stepUpHops() []string {
	return append([]string{mcpHop(adminCall, 403)}, f.authorizationHops()...)
}

func forSchemes(t *testing.T, run func(t *testing.T, tls bool)) {
	t.Run("http", func(t *testing.T) { run(t, false) })
	t.Run("https", func(t *testing.T) { run(t, true) })
}

// TestGoSDKClientDCR: a client registering dynamically (RFC 7591) runs
// the whole flow; Bob steps up to the admin tool, Alice (not in group
// admins) steps up but is still refused.
func TestGoSDKClientDCR(t *testing.T) {
	f := flavour{reg: []registration{dcr}, dcr: true}
	forSchemes(t, func(t *testing.T, tls bool) {
		t.Run("permitted user steps up", func(t *testing.T) {
			c := newClient(t, newGateway(t, tls, nil), testenv.Bob, 2, f.reg...)
			stepUpGranted(t, c, f, firstContact(t, c, f))
			requireRegistrations(t, c, 2)
			requireClientPerAuthorization(t, c)
		})
		t.Run("other user stays denied", func(t *testing.T) {
			c := newClient(t, newGateway(t, tls, nil), testenv.Alice, 3, f.reg...)
			stepUpRefused(t, c, f, firstContact(t, c, f))
			requireRegistrations(t, c, 3)
			requireClientPerAuthorization(t, c)
		})
	})
}

// requireClientPerAuthorization fails unless every authorization of a
// DCR client ran under a client_id of its own, the token under the last:
// the go-sdk registers again each time (see flavour).
func requireClientPerAuthorization(t *testing.T, c *client) {
	t.Helper()
	ids := map[string]bool{}
	asked := c.ua.authorizations()
	for _, a := range asked {
		ids[a.ClientID] = true
	}
	if len(ids) != len(asked) {
		t.Errorf("authorizations %+v: want a new client_id each", asked)
	}
	if got := c.claims(t)["client_id"]; got != asked[len(asked)-1].ClientID {
		t.Errorf("token client_id %v, want the last registered %s", got, asked[len(asked)-1].ClientID)
	}
}

// cimdPath is where the client ID metadata document is published.
const cimdPath = "/clients/gosdk-e2e.json"

// TestGoSDKClientCIMD: the client identifies itself by a metadata
// document URL over TLS (SPEC AS-7) and never registers, even though it
// could (DCR is configured too, and the go-sdk prefers CIMD when the AS
// advertises it); the tokens name the document URL as client_id. With a
// stable client_id the step-up happens inside the one MCP session.
func TestGoSDKClientCIMD(t *testing.T) {
	forSchemes(t, func(t *testing.T, tls bool) {
		for _, user := range []string{testenv.Bob, testenv.Alice} {
			t.Run(user, func(t *testing.T) {
				srv := testenv.NewCIMDServer(t)
				srv.Serve(cimdPath, srv.Document(cimdPath, "go-sdk e2e client", redirectURL), "")
				id := srv.ClientID(cimdPath)
				g := newGateway(t, tls, func(c *config.Config) { srv.Trust()(c) })
				f := flavour{reg: []registration{cimd(id), dcr}}
				budget := 2 // first contact, one step-up
				if user == testenv.Alice {
					budget = 3 // and one more refused attempt
				}
				c := newClient(t, g, user, budget, f.reg...)
				cs := firstContact(t, c, f)
				if user == testenv.Bob {
					stepUpGranted(t, c, f, cs)
				} else {
					stepUpRefused(t, c, f, cs)
				}
				requireRegistrations(t, c, 0)
				if got := c.claims(t)["client_id"]; got != id {
					t.Errorf("access token client_id %v, want the document URL %s", got, id)
				}
				for _, a := range c.ua.authorizations() {
					if a.ClientID != id {
						t.Errorf("authorization as client %q, want %s", a.ClientID, id)
					}
				}
				if srv.Hits(cimdPath) == 0 {
					t.Error("the gateway never fetched the metadata document")
				}
			})
		}
	})
}

// requireRegistrations fails unless the client registered n times, as
// both the recorder and the audit log saw it.
func requireRegistrations(t *testing.T, c *client, n int) {
	t.Helper()
	if got := c.rec.count("POST /oauth/register"); got != n {
		t.Errorf("%d registration requests, want %d", got, n)
	}
	if got := len(c.g.AuditEvents("client_registered")); got != n {
		t.Errorf("%d client_registered events, want %d", got, n)
	}
}

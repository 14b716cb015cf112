package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/demoupstream"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// redirectURL is the client's loopback redirect URI (RFC 8252 §7.3).
// Nothing listens there: the user agent reads the code from the redirect.
const redirectURL = "http://127.0.0.1:53682/callback"

// adminScope guards demoupstream.AdminTool; only group admins (Bob) may
// be granted it.
const adminScope = "files:admin"

// newGateway starts the demo upstream and a gateway serving it as the
// files upstream, with AdminTool needing adminScope on top of files:read.
func newGateway(t *testing.T, tls bool, mutate func(*config.Config)) *testenv.Gateway {
	t.Helper()
	return newGatewayWith(t, testenv.Options{TLS: tls}, mutate)
}

// newGatewayWith is newGateway with more options (a clock).
func newGatewayWith(t *testing.T, o testenv.Options, mutate func(*config.Config)) *testenv.Gateway {
	t.Helper()
	up := httptest.NewServer(demoupstream.Handler())
	t.Cleanup(up.Close)
	o.Mutate = func(c *config.Config) {
		c.Upstreams[0].URL = up.URL
		c.Scopes = append(c.Scopes, config.Scope{Name: adminScope, Description: "Administer files", Groups: []string{"admins"}})
		c.Upstreams[0].Tools = []config.ToolRule{{Match: demoupstream.AdminTool, Scopes: []string{adminScope}}}
		if mutate != nil {
			mutate(c)
		}
	}
	return testenv.New(t, o)
}

// client is a go-sdk MCP client with the go-sdk OAuth handler, as an MCP
// host application would build it.
type client struct {
	rec     *recorder
	ua      *userAgent
	handler *auth.AuthorizationCodeHandler
	hc      *http.Client
	g       *testenv.Gateway
}

// registration chooses how the client registers: it sets one or more of
// the handler's registration options.
type registration func(*auth.AuthorizationCodeHandlerConfig)

// dcr registers dynamically (RFC 7591) as a public native client.
func dcr(c *auth.AuthorizationCodeHandlerConfig) {
	c.DynamicClientRegistrationConfig = &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
		ClientName: "go-sdk e2e client", RedirectURIs: []string{redirectURL}, TokenEndpointAuthMethod: "none",
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
	}}
}

// cimd identifies the client by its metadata document URL.
func cimd(url string) registration {
	return func(c *auth.AuthorizationCodeHandlerConfig) {
		c.ClientIDMetadataDocumentConfig = &auth.ClientIDMetadataDocumentConfig{URL: url}
	}
}

// newClient builds the client for username; the user agent authorizes at
// most budget times.
func newClient(t *testing.T, g *testenv.Gateway, username string, budget int, reg ...registration) *client {
	t.Helper()
	rec := &recorder{next: g.HTTP.Client().Transport, prefix: testenv.FilesPath}
	c := &client{rec: rec, ua: newUserAgent(g, username, budget), hc: &http.Client{Transport: rec}, g: g}
	cfg := &auth.AuthorizationCodeHandlerConfig{
		RedirectURL:              redirectURL,
		AuthorizationCodeFetcher: c.ua.fetch,
		Client:                   c.hc,
	}
	for _, r := range reg {
		r(cfg)
	}
	h, err := auth.NewAuthorizationCodeHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.handler = h
	return c
}

// connect opens an MCP session on the files upstream.
func (c *client) connect(t *testing.T) *mcp.ClientSession {
	t.Helper()
	mc := mcp.NewClient(&mcp.Implementation{Name: "mcpgate-e2e", Version: "1"}, nil)
	cs, err := mc.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: c.g.Resource(testenv.FilesPath), HTTPClient: c.hc, OAuthHandler: c.handler,
	}, nil)
	if err != nil {
		t.Fatalf("connect: %v\nhops: %q", err, c.rec.since(0))
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// claims decodes the client's current access token.
func (c *client) claims(t *testing.T) map[string]any {
	t.Helper()
	ts, err := c.handler.TokenSource(context.Background())
	if err != nil || ts == nil {
		t.Fatalf("token source: %v, %v", ts, err)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	return testenv.JWTPayload(t, tok.AccessToken)
}

// toolNames lists the tools the session sees.
func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	return names
}

// echo calls the echo tool and fails unless it answers text.
func echo(t *testing.T, cs *mcp.ClientSession, text string) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": text}})
	if err != nil {
		t.Fatalf("echo: %v", err)
	}
	if tc, ok := res.Content[0].(*mcp.TextContent); res.IsError || !ok || tc.Text != text {
		t.Fatalf("echo = %+v, want text %q", res, text)
	}
}

// requireHops fails unless the hops since mark are want, in order.
func requireHops(t *testing.T, rec *recorder, mark int, want ...string) {
	t.Helper()
	if got := rec.since(mark); !slices.Equal(got, want) {
		t.Errorf("client saw\n  %q\nwant\n  %q", got, want)
	}
}

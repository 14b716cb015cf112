package oauth_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// The client ID metadata document tests (SPEC AS-7): documents come from a
// loopback TLS server the gateway trusts through the test-only
// registration.cimd_test_trust option; every other SSRF rule applies.

const cimdPath = "/clients/app.json"

// cimdGateway starts a document server publishing a valid document at
// cimdPath and a gateway trusting it.
func cimdGateway(t *testing.T, o testenv.Options) (*testenv.Gateway, *testenv.CIMDServer) {
	t.Helper()
	srv := testenv.NewCIMDServer(t)
	srv.Serve(cimdPath, srv.Document(cimdPath, "Metadata App", "http://127.0.0.1/cb"), "")
	mutate := o.Mutate
	o.Mutate = func(c *config.Config) {
		srv.Trust()(c)
		if mutate != nil {
			mutate(c)
		}
	}
	return testenv.New(t, o), srv
}

func cimdParams(g *testenv.Gateway, clientID string) url.Values {
	return g.AuthParams(clientID, "http://127.0.0.1/cb", g.Resource(testenv.FilesPath), testenv.NewPKCE())
}

// requireRefusedClient fails unless authorizing clientID shows the
// unknown-client error page: an unverifiable client gets a page, never a
// redirect to a URI it chose (RFC 6749 §4.1.2.1).
func requireRefusedClient(t *testing.T, g *testenv.Gateway, clientID string) {
	t.Helper()
	resp := g.NewBrowser().Get("/oauth/authorize?" + cimdParams(g, clientID).Encode())
	testenv.RequireErrorPage(t, resp, http.StatusBadRequest)
	if !strings.Contains(resp.Body, "not registered") {
		t.Errorf("error page for %s does not say the application is not registered:\n%s", clientID, resp.Body)
	}
	if _, err := g.Store().GetClient(context.Background(), clientID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("refused client %s is in the store (%v)", clientID, err)
	}
}

// TestCIMDClientFlow: an https client_id whose document is valid runs a
// whole flow under that client_id, and the consent page names the client
// as published through a metadata document (SPEC AS-3).
func TestCIMDClientFlow(t *testing.T) {
	g, srv := cimdGateway(t, testenv.Options{})
	id := srv.ClientID(cimdPath)
	b := g.NewBrowser()
	p := testenv.NewPKCE()
	params := g.AuthParams(id, "http://127.0.0.1/cb", g.Resource(testenv.FilesPath), p)
	page := regConsentPage(t, b, params)
	body := html.UnescapeString(page.Body)
	for _, want := range []string{"Metadata App", id, "client metadata document"} {
		if !strings.Contains(body, want) {
			t.Errorf("consent page does not show %q:\n%s", want, page.Body)
		}
	}
	if strings.Contains(body, "registered itself") {
		t.Error("consent page calls a metadata-document client self-registered")
	}
	loc := b.Authorize(params, testenv.Alice)
	status, tok := g.ExchangeCode(id, "", loc.Query().Get("code"), "http://127.0.0.1/cb", p)
	if status != http.StatusOK {
		t.Fatalf("code exchange as %s: %d %v", id, status, tok)
	}
	if cid := testenv.JWTPayload(t, tok["access_token"].(string))["client_id"]; cid != id {
		t.Errorf("access token client_id = %v, want %s", cid, id)
	}
	if ev := g.AuditEvents("oauth_flow_started"); len(ev) == 0 || ev[0].Client != id || ev[0].Details["registration"] != "cimd" {
		t.Errorf("oauth_flow_started events %+v, want client %s with registration cimd", ev, id)
	}
	if n := srv.Hits(cimdPath); n != 1 {
		t.Errorf("document fetched %d times for one flow, want 1", n)
	}
}

// TestCIMDDocumentIsCached: documents are cached per their max-age (SPEC
// AS-7) in the store, so neither a second authorization nor a restarted
// instance fetches again; once the max-age has passed, it is fetched anew.
func TestCIMDDocumentIsCached(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	opts := testenv.Options{Now: clock.Now}
	g, srv := cimdGateway(t, opts)
	srv.Serve(cimdPath, srv.Document(cimdPath, "Metadata App", "http://127.0.0.1/cb"), "max-age=600")
	id := srv.ClientID(cimdPath)
	b := g.NewBrowser()
	b.StartFlow(cimdParams(g, id))
	b.StartFlow(cimdParams(g, id))
	if n := srv.Hits(cimdPath); n != 1 {
		t.Fatalf("two authorizations fetched the document %d times, want 1", n)
	}

	g.Close()
	g = g.Restart(t, opts)
	clock.Advance(9 * time.Minute)
	g.NewBrowser().StartFlow(cimdParams(g, id))
	if n := srv.Hits(cimdPath); n != 1 {
		t.Fatalf("a restarted instance fetched the cached document again (%d fetches), want 1", n)
	}

	clock.Advance(2 * time.Minute) // past max-age=600
	g.NewBrowser().StartFlow(cimdParams(g, id))
	if n := srv.Hits(cimdPath); n != 2 {
		t.Fatalf("after max-age the document was fetched %d times in all, want 2", n)
	}
}

// TestCIMDRefusesBadDocuments: a document that speaks for another client,
// carries a secret or asks for a shared-secret auth method is refused
// (draft-ietf-oauth-client-id-metadata-document §4.1), with a page.
func TestCIMDRefusesBadDocuments(t *testing.T) {
	g, srv := cimdGateway(t, testenv.Options{})
	valid := func(path string) map[string]any { return srv.Document(path, "Bad App", "http://127.0.0.1/cb") }
	docs := map[string]map[string]any{}
	docs["/clients/mismatch.json"] = valid(cimdPath) // names the other URL as its client_id
	docs["/clients/secret.json"] = valid("/clients/secret.json")
	docs["/clients/secret.json"]["client_secret"] = "0123456789abcdef0123456789abcdef"
	docs["/clients/basic.json"] = valid("/clients/basic.json")
	docs["/clients/basic.json"]["token_endpoint_auth_method"] = "client_secret_basic"
	docs["/clients/slash.json"] = valid("/clients/slash.json")
	docs["/clients/slash.json"]["client_id"] = srv.ClientID("/clients/slash.json/")
	for path, doc := range docs {
		srv.Serve(path, doc, "")
		requireRefusedClient(t, g, srv.ClientID(path))
		if n := srv.Hits(path); n != 1 {
			t.Errorf("%s fetched %d times, want 1", path, n)
		}
	}
}

// TestCIMDFetchStaysOnTheTrustedHost: the test-only trust admits exactly
// one loopback host:port. Any other loopback or private authority is
// refused before a connection is made (SSRF, SPEC AS-7), even one serving
// a valid document under a certificate the gateway trusts.
func TestCIMDFetchStaysOnTheTrustedHost(t *testing.T) {
	g, srv := cimdGateway(t, testenv.Options{})
	other := testenv.NewCIMDServer(t) // same CA as srv, another port
	other.Serve(cimdPath, other.Document(cimdPath, "Other App", "http://127.0.0.1/cb"), "")
	_, port, _ := strings.Cut(srv.Host, ":")
	for _, id := range []string{
		other.ClientID(cimdPath),
		"https://localhost:" + port + cimdPath,
		"https://127.0.0.2:" + port + cimdPath,
		"https://[::ffff:127.0.0.1]:" + port + cimdPath,
		"https://10.0.0.1/x.json",
		"https://169.254.169.254/latest/meta-data.json",
	} {
		requireRefusedClient(t, g, id)
	}
	if srv.Conns() != 0 || other.Conns() != 0 {
		t.Fatalf("refused client IDs reached a server: %d and %d connections", srv.Conns(), other.Conns())
	}
	if n := strings.Count(g.Logs.String(), "non-public address"); n < 6 {
		t.Errorf("%d of 6 fetches were refused for their address; log:\n%s", n, g.Logs)
	}
	g.NewBrowser().StartFlow(cimdParams(g, srv.ClientID(cimdPath)))
	if srv.Conns() != 1 {
		t.Errorf("the trusted host got %d connections for one fetch, want 1", srv.Conns())
	}
}

// TestCIMDDisabled: with registration.cimd false an https client_id is
// just an unknown client; nothing is fetched.
func TestCIMDDisabled(t *testing.T) {
	off := false
	g, srv := cimdGateway(t, testenv.Options{Mutate: func(c *config.Config) {
		c.Registration.CIMD, c.Registration.CIMDTestTrust = &off, nil
	}})
	requireRefusedClient(t, g, srv.ClientID(cimdPath))
	if srv.Conns() != 0 {
		t.Errorf("document server got %d connections with CIMD off", srv.Conns())
	}
}

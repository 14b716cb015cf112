package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/testenv/zitadel"
)

// TestZitadelLoginThroughGateway (SPEC ID-2, §10 acceptance): the
// gateway's oidc connector logs a user in at a real third-party OpenID
// Provider, the zitadel/oidc example OP that .ci/zitadel-op starts. The
// test is the browser: it follows every redirect and fills the OP's HTML
// login form as test-user@localhost / verysecure. It then calls tools
// through the proxy with the mcpgate token it got, and checks that the
// identity the OP vouched for reached policy (a rule admitting only the
// zitadel provider's user by verified email) and the upstream (identity
// headers with the namespaced zitadel subject and the email).
//
// The OP registers redirect URIs only at start, so the gateway listens on
// the address .ci/zitadel-op chose and registered (MCPGATE_ZITADEL_GATEWAY).
func TestZitadelLoginThroughGateway(t *testing.T) {
	base := os.Getenv("MCPGATE_TEST_ZITADEL")
	if base == "" {
		t.Skip(zitadel.SkipMessage)
	}
	addr := os.Getenv("MCPGATE_ZITADEL_GATEWAY")
	if addr == "" {
		t.Fatal("MCPGATE_TEST_ZITADEL is set but MCPGATE_ZITADEL_GATEWAY is not: start the OP with .ci/zitadel-op")
	}
	issuer := zitadelIssuer(t, base)
	const email = "test-user@zitadel.ch" // the example OP's test user

	g := newGatewayWith(t, testenv.Options{Listen: addr}, func(c *config.Config) {
		c.IdentityProviders = append(c.IdentityProviders, config.IdentityProvider{
			ID: "zitadel", Type: "oidc", Issuer: issuer,
			ClientID: zitadel.ClientID, ClientSecret: zitadel.ClientSecret,
			Scopes: []string{"openid", "profile", "email"},
		})
		identityHeaders(c)
		c.Upstreams[0].Tools = append(c.Upstreams[0].Tools,
			config.ToolRule{Match: "echo", Providers: []string{"zitadel"}, Users: []string{email}},
			config.ToolRule{Match: "add", Users: []string{"someone-else@zitadel.ch"}})
	})

	tr := zitadel.Transport(t)
	token := newWebBrowser(t, g, tr).accessToken("zitadel", "test-user@localhost", "verysecure")
	claims := testenv.JWTPayload(t, token)
	if claims["sub"] != "zitadel:"+zitadel.Subject {
		t.Fatalf("token subject %v, want zitadel:%s", claims["sub"], zitadel.Subject)
	}

	cs := connectAs(t, g, token)
	echo(t, cs, "hello from zitadel")
	if err := callErr(cs, "add", map[string]any{"a": 1, "b": 2}); err == nil {
		t.Fatal("a rule naming another user admitted the zitadel user")
	}
	who := callText(t, cs, "whoami")
	for _, want := range []string{"zitadel:" + zitadel.Subject, email} {
		if !strings.Contains(who, want) {
			t.Fatalf("the upstream did not receive %q:\n%s", want, who)
		}
	}
	if e := g.RequireAudit(t, "tool_call_allowed", "tool", "echo", 0); e.User != "zitadel:"+zitadel.Subject || e.Provider != "zitadel" {
		t.Fatalf("allowed call audited as %+v", e)
	}
}

// zitadelIssuer reads the OP's issuer from its discovery document: it
// names itself http://localhost:PORT/, and the connector requires the
// configured issuer to match byte for byte.
func zitadelIssuer(t *testing.T, base string) string {
	t.Helper()
	c := &http.Client{Transport: zitadel.Transport(t), Timeout: 10 * time.Second}
	resp, err := c.Get(strings.TrimSuffix(base, "/") + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil || md.Issuer == "" {
		t.Fatalf("discovery: %v %+v", err, md)
	}
	return md.Issuer
}

package e2e

import (
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to break the gateway's tables under it

	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/testenv/pgtest"
)

// TestAttackInternalErrorsDoNotLeak provokes the gateway's internal
// failures, which an attacker can trigger or wait for, and checks that
// the answers are clean protocol errors (SPEC AS-10, PX-12): an
// unreachable upstream, and a PostgreSQL store whose tables have
// vanished under the running server, answer 5xx with an OAuth or
// JSON-RPC error that names no SQL, driver, address or Go error.
func TestAttackInternalErrorsDoNotLeak(t *testing.T) {
	t.Run("unreachable upstream", func(t *testing.T) {
		// The test config's admin upstream is http://127.0.0.1:1/mcp,
		// where nothing listens.
		a := newAttackEnv(t, testenv.Options{}, nil)
		a.secrets = append(a.secrets, "127.0.0.1:1/", "127.0.0.1:1:")
		_, rep := a.g.Tokens(a.g.NewBrowser(), testenv.PublicClient, a.g.Resource(testenv.AdminPath), testenv.Bob)
		resp, body := a.mcp(t, http.MethodPost, testenv.AdminPath, initializeBody, bearer(rep.Get("access_token")))
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, `"jsonrpc":"2.0"`) {
			t.Fatalf("got %d %s, want 502 with a JSON-RPC error", resp.StatusCode, body)
		}
	})
	t.Run("store tables gone", func(t *testing.T) {
		dsn := pgtest.DSN(t, "mcpgate_attack_")
		a := newAttackEnv(t, testenv.Options{Driver: "postgres", DSN: dsn}, nil)
		g := a.g
		f := g.AuthorizeFlow(g.NewBrowser(), g.NewFlow(testenv.PublicClient, g.Resource(testenv.FilesPath)), testenv.Alice, nil)
		f2, live := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.Resource(testenv.FilesPath), testenv.Alice)

		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var name string
			rows.Scan(&name)
			tables = append(tables, name)
		}
		rows.Close()
		if len(tables) == 0 {
			t.Fatal("no tables in the gateway's schema")
		}
		for _, name := range tables {
			if _, err := db.Exec(`ALTER TABLE "` + name + `" RENAME TO "gone_` + name + `"`); err != nil {
				t.Fatal(err)
			}
		}
		a.secrets = append(a.secrets, "gone_", `relation "`)

		requireServerError := func(t *testing.T, r testenv.Reply) {
			t.Helper()
			a.reply(t, r)
			if r.Status < 500 || r.Status > 503 {
				t.Fatalf("got %d %s, want a 5xx", r.Status, r.Raw)
			}
		}
		t.Run("token: code", func(t *testing.T) {
			r := g.Exchange(f, nil)
			requireServerError(t, r)
			if r.Get("error") != "server_error" && r.Get("error") != "temporarily_unavailable" {
				t.Errorf("error %q, want server_error or temporarily_unavailable", r.Get("error"))
			}
		})
		t.Run("token: refresh", func(t *testing.T) { requireServerError(t, g.RefreshFlow(f2, live.Get("refresh_token"), nil)) })
		t.Run("register", func(t *testing.T) {
			requireServerError(t, g.Call("/oauth/register", "application/json",
				`{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none","client_name":"x"}`, nil))
		})
		t.Run("authorize", func(t *testing.T) {
			resp := a.page(t, g.NewBrowser().Get("/oauth/authorize?"+publicParams(g).Encode()))
			requireNoCode(t, resp)
			if resp.StatusCode < 500 {
				t.Fatalf("authorize with a broken store: %d", resp.StatusCode)
			}
		})
		t.Run("login", func(t *testing.T) {
			b := g.NewBrowser()
			resp := a.page(t, b.Post("/oauth/login", url.Values{"req": {"x"}, "provider": {"local"}, "username": {testenv.Alice}, "password": {testenv.Password}}))
			requireNoCode(t, resp)
		})
		t.Run("introspect", func(t *testing.T) {
			a.reply(t, g.Introspect(live.Get("access_token"), testenv.ConfidentialClient, testenv.ConfidentialSecret))
		})
		t.Run("MCP route", func(t *testing.T) {
			// The token verifies from cache and keys in memory; whatever the
			// store's part (revocation), the answer may not leak.
			a.mcp(t, http.MethodPost, testenv.FilesPath, initializeBody, bearer(live.Get("access_token")))
		})
		// The control: the failures above were real store errors, logged
		// for the operator, just not shown to the client.
		if !strings.Contains(g.Logs.String(), "does not exist") {
			t.Errorf("the gateway log shows no store error; the attack did not reach the store:\n%.3000s", g.Logs.String())
		}
		// Put the tables back so the gateway's cleanup runs against a store
		// it knows.
		for _, name := range tables {
			db.Exec(`ALTER TABLE "gone_` + name + `" RENAME TO "` + name + `"`)
		}
	})
}

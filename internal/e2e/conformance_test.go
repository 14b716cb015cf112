package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// The MCP conformance suite (@modelcontextprotocol/conformance, server
// mode) run through the gateway, with the go-sdk's conformance server as
// the upstream. The suite cannot do OAuth: it gets a token from a flow the
// test runs first, through a preload (testdata/node/bearer-preload.mjs)
// that adds the Authorization header to every request it makes.

// everythingServer is the go-sdk conformance server's package, at the
// go-sdk version go.mod pins (a tool directive there keeps it resolvable).
const everythingServer = "github.com/modelcontextprotocol/go-sdk/conformance/everything-server"

// startEverythingServer builds and starts the conformance server in
// stateful mode (its default, stateless, fails the sampling and
// elicitation scenarios and never exercises session IDs or GET streams)
// and returns its MCP URL.
func startEverythingServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "everything-server")
	if out, err := exec.Command("go", "build", "-o", bin, everythingServer).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", everythingServer, err, out)
	}
	addr := freeLoopbackAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-stateless=false", "-http", addr)
	logs := &testenv.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("everything-server log:\n%s", logs.String())
		}
	})
	waitListening(t, addr, exited)
	return "http://" + addr + "/mcp"
}

// freeLoopbackAddr is a loopback address no one listens on now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitListening returns once addr accepts connections. The server logs
// before it listens, so its output cannot tell; the test polls the port
// (every 20 ms, for at most 30 s) until it connects or the server exits.
func waitListening(t *testing.T, addr string, exited <-chan error) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			t.Fatalf("everything-server exited: %v", err)
		case <-deadline:
			t.Fatalf("everything-server did not listen on %s within 30s", addr)
		case <-tick.C:
		}
	}
}

// conformanceRun is one run of the suite's active server scenarios.
type conformanceRun struct {
	exitErr   error
	total     int // from "Running active suite (N scenarios)"
	scenarios map[string][2]int
	order     []string
	passed    int
	failed    int
	summary   []string   // the summary block, as printed
	outDir    string     // per-scenario checks.json
	responses []response // the suite's fetches (the preload's log)
}

var (
	suiteLine    = regexp.MustCompile(`^Running active suite \((\d+) scenarios\)`)
	scenarioLine = regexp.MustCompile(`^[✓✗] (\S+): (\d+) passed, (\d+) failed`)
	totalLine    = regexp.MustCompile(`^Total: (\d+) passed, (\d+) failed`)
)

// runConformance runs the suite against url, with token (if any) in the
// Authorization header of every request.
func runConformance(t *testing.T, node, url, token string) conformanceRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := conformanceRun{outDir: t.TempDir(), scenarios: map[string][2]int{}}
	httpLog := filepath.Join(t.TempDir(), "http.jsonl")
	env := []string{"MCPGATE_BEARER=" + token, "MCPGATE_HTTP_LOG=" + httpLog}
	p := startNode(t, ctx, node, env, "--import", "./bearer-preload.mjs",
		"node_modules/@modelcontextprotocol/conformance/dist/index.js", "server", "--url", url, "-o", run.outDir)
	p.stdin.Close()
	inSummary := false
	var out []string
	for p.lines.Scan() {
		line := p.lines.Text()
		out = append(out, line)
		if m := suiteLine.FindStringSubmatch(line); m != nil {
			run.total, _ = strconv.Atoi(m[1])
		}
		if strings.HasPrefix(line, "=== SUMMARY ===") {
			inSummary = true
		}
		if !inSummary {
			continue
		}
		run.summary = append(run.summary, line)
		if m := scenarioLine.FindStringSubmatch(line); m != nil {
			pass, _ := strconv.Atoi(m[2])
			fail, _ := strconv.Atoi(m[3])
			run.scenarios[m[1]] = [2]int{pass, fail}
			run.order = append(run.order, m[1])
		}
		if m := totalLine.FindStringSubmatch(line); m != nil {
			run.passed, _ = strconv.Atoi(m[1])
			run.failed, _ = strconv.Atoi(m[2])
		}
	}
	var stderr string
	stderr, run.exitErr = p.wait()
	if run.total == 0 || len(run.order) != run.total {
		t.Fatalf("conformance suite: %d scenario results for %d announced (exit %v)\nstdout:\n%s\nstderr:\n%s",
			len(run.order), run.total, run.exitErr, strings.Join(out, "\n"), stderr)
	}
	run.responses = readResponses(t, httpLog)
	return run
}

// response is one line of the preload's log.
type response struct {
	Status          int    `json:"status"`
	WWWAuthenticate string `json:"www_authenticate"`
}

// readResponses reads the preload's log of fetch responses.
func readResponses(t *testing.T, path string) []response {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []response
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r response
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("preload log line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// check is one entry of a scenario's checks.json.
type check struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Details struct {
		HostHeader string `json:"hostHeader"`
		StatusCode int    `json:"statusCode"`
	} `json:"details"`
}

// checks reads the checks of scenario from the run's output directory.
func (r conformanceRun) checks(t *testing.T, scenario string) []check {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(r.outDir, "server-"+scenario+"-*"))
	if len(dirs) != 1 {
		t.Fatalf("results of %s: %v, want one directory", scenario, dirs)
	}
	raw, err := os.ReadFile(filepath.Join(dirs[0], "checks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []check
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s checks.json: %v", scenario, err)
	}
	return out
}

// requireAllPassed fails unless every scenario passed every check.
func requireAllPassed(t *testing.T, r conformanceRun) {
	t.Helper()
	for _, s := range r.order {
		if res := r.scenarios[s]; res[1] != 0 || res[0] == 0 {
			t.Errorf("scenario %s: %d passed, %d failed", s, res[0], res[1])
		}
	}
	if r.failed != 0 || r.passed == 0 || r.exitErr != nil {
		t.Errorf("conformance: %d passed, %d failed, exit %v", r.passed, r.failed, r.exitErr)
	}
}

// TestConformanceThroughGateway: every active server scenario of the MCP
// conformance suite passes through the gateway in front of the go-sdk's
// conformance server, as it does against that server directly; without a
// token every scenario fails, on the gateway's 401.
func TestConformanceThroughGateway(t *testing.T) {
	node := requireNode(t)
	upstream := startEverythingServer(t)

	// The baseline: the suite against the upstream itself, so a failure
	// below is the gateway's.
	direct := runConformance(t, node, upstream, "")
	requireAllPassed(t, direct)
	t.Logf("conformance directly against the everything-server: %d scenarios, %d checks passed, %d failed", len(direct.order), direct.passed, direct.failed)

	g := testenv.New(t, testenv.Options{Mutate: func(c *config.Config) { c.Upstreams[0].URL = upstream }})
	resource := g.Resource(testenv.FilesPath)
	token, _ := g.Login(g.NewBrowser(), testenv.PublicClient, resource, testenv.Alice)["access_token"].(string)
	if token == "" {
		t.Fatal("no access token from the flow")
	}

	with := runConformance(t, node, resource, token)
	for _, line := range with.summary {
		if strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "===") {
			t.Logf("conformance through the gateway: %s", line)
		}
	}
	requireAllPassed(t, with)
	if !slices.Equal(with.order, direct.order) || with.passed != direct.passed {
		t.Errorf("through the gateway: scenarios %v, %d checks passed; directly: %v, %d", with.order, with.passed, direct.order, direct.passed)
	}
	requireRebindingDefence(t, g, with)

	without := runConformance(t, node, resource, "")
	for _, s := range without.order {
		if without.scenarios[s][1] == 0 {
			t.Errorf("without a token, scenario %s failed no check", s)
		}
	}
	if without.exitErr == nil {
		t.Error("the suite exited 0 without a token")
	}
	if len(without.responses) == 0 {
		t.Error("without a token the suite made no request")
	}
	// RFC 6750 §3.1, SPEC PX-2: no token, no error code; the resource
	// metadata URL and the upstream's scope, quoted.
	bare := `Bearer resource_metadata="` + g.URL + "/.well-known/oauth-protected-resource" + testenv.FilesPath + `", scope="files:read"`
	allBare := true
	for _, r := range without.responses {
		if r.Status != 401 || r.WWWAuthenticate != bare {
			t.Errorf("without a token the gateway answered %d with WWW-Authenticate %q; want 401 with %q to every request", r.Status, r.WWWAuthenticate, bare)
			allBare = false
			break
		}
	}
	for _, c := range without.checks(t, "dns-rebinding-protection") {
		if c.ID == "localhost-host-valid-accepted" && c.Details.StatusCode != 401 {
			t.Errorf("without a token, the suite's request with the gateway's own Host got %d, want 401", c.Details.StatusCode)
		}
	}
	if allBare {
		t.Logf("conformance through the gateway without a token: %d of %d scenarios failed, %d checks failed, all %d MCP requests answered 401 with the bare challenge",
			len(without.order), without.total, without.failed, len(without.responses))
	}
}

// requireRebindingDefence: in the dns-rebinding scenario the gateway
// itself refused the foreign Host and Origin (403 from its own check,
// SPEC PX-10) and accepted its own.
func requireRebindingDefence(t *testing.T, g *testenv.Gateway, r conformanceRun) {
	t.Helper()
	got := map[string]check{}
	for _, c := range r.checks(t, "dns-rebinding-protection") {
		got[c.ID] = c
	}
	own := strings.TrimPrefix(g.URL, "http://")
	if c := got["localhost-host-rebinding-rejected"]; c.Status != "SUCCESS" || c.Details.StatusCode != 403 || c.Details.HostHeader != "evil.example.com" {
		t.Errorf("foreign Host: %+v, want the gateway's 403", c)
	}
	if c := got["localhost-host-valid-accepted"]; c.Status != "SUCCESS" || c.Details.StatusCode != 200 || c.Details.HostHeader != own {
		t.Errorf("own Host: %+v, want 200 for Host %s", c, own)
	}
}

package session

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// browser carries the flow cookie from one response to the next request,
// as a real browser's cookie store would.
type browser struct{ flow *http.Cookie }

func (b *browser) bind(t *testing.T, m *Manager) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	binding := m.BindFlow(rec, request(firefox, b.flow))
	b.flow = onlyCookie(t, rec, m.flowName)
	return binding
}

func (b *browser) check(m *Manager, binding []byte) bool {
	return m.CheckFlow(request(firefox, b.flow), binding)
}

func TestFlowBindingSameBrowserPasses(t *testing.T) {
	f := newFixture(t, nil)
	var b browser
	binding := b.bind(t, f.m)
	want := sha256.Sum256([]byte(b.flow.Value))
	if !bytes.Equal(binding, want[:]) {
		t.Fatalf("binding = %x, want SHA-256 of the cookie value", binding)
	}
	if !b.check(f.m, binding) {
		t.Fatal("the browser that started the flow is refused")
	}
}

// Login CSRF: the attacker starts a flow and sends the victim the
// callback. The victim's browser has no flow cookie, or its own, never the
// attacker's.
func TestFlowBindingOtherBrowserFails(t *testing.T) {
	f := newFixture(t, nil)
	var attacker, victim browser
	attackerFlow := attacker.bind(t, f.m)
	if victim.check(f.m, attackerFlow) {
		t.Fatal("a browser without a flow cookie passed")
	}
	victim.bind(t, f.m)
	if victim.check(f.m, attackerFlow) {
		t.Fatal("a browser with its own flow cookie passed the attacker's binding")
	}
	for name, binding := range map[string][]byte{"nil": nil, "short": attackerFlow[:16], "value not hash": []byte(attacker.flow.Value)} {
		if attacker.check(f.m, binding) {
			t.Errorf("%s binding passed", name)
		}
	}
}

// Five flows started in parallel tabs: the newest four still complete, the
// oldest does not.
func TestFlowBindingKeepsNewestFour(t *testing.T) {
	f := newFixture(t, nil)
	var b browser
	var bindings [][]byte
	for range 5 {
		bindings = append(bindings, b.bind(t, f.m))
	}
	if n := strings.Count(b.flow.Value, flowSep) + 1; n != 4 {
		t.Fatalf("flow cookie holds %d values, want 4: %q", n, b.flow.Value)
	}
	for i, want := range []bool{false, true, true, true, true} {
		if got := b.check(f.m, bindings[i]); got != want {
			t.Errorf("flow %d passes = %v, want %v", i+1, got, want)
		}
	}
}

// Junk in the flow cookie is dropped, not carried into the next cookie.
func TestFlowBindingDropsMalformedValues(t *testing.T) {
	f := newFixture(t, nil)
	b := browser{flow: &http.Cookie{Name: FlowCookieSecure, Value: "junk..x" + flowSep + strings.Repeat("A", 43) + "="}}
	binding := b.bind(t, f.m)
	if strings.Contains(b.flow.Value, flowSep) || !b.check(f.m, binding) {
		t.Fatalf("flow cookie %q: want just the new value", b.flow.Value)
	}
}

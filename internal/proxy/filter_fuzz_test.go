package proxy

import (
	"encoding/json"
	"testing"

	"github.com/mcpgate/mcpgate/internal/policy"
)

// clientList is how a typical client reads a list answer: encoding/json
// into a struct, which matches keys case-insensitively under Unicode
// folding ("toolſ" fills Tools, U+017F folding to 's') and keeps the last
// of duplicate keys.
type clientList struct {
	Result *struct {
		Tools     []struct{ Name string }
		Prompts   []struct{ Name string }
		Resources []struct{ URI string }
	}
}

// assertNothingHidden fails when a client decoding out (one message or a
// batch) would see a list item that policy hides from p.
func assertNothingHidden(t *testing.T, rt *route, p Principal, out []byte) {
	t.Helper()
	var msgs []clientList
	var one clientList
	if json.Unmarshal(out, &msgs) != nil {
		json.Unmarshal(out, &one)
		msgs = []clientList{one}
	}
	for _, m := range msgs {
		if m.Result == nil {
			continue
		}
		for _, it := range m.Result.Tools {
			if !rt.policy.Visible(p.Principal, policy.KindTool, it.Name, nil) {
				t.Fatalf("hidden tool %q reaches the client in %q", it.Name, out)
			}
		}
		for _, it := range m.Result.Prompts {
			if !rt.policy.Visible(p.Principal, policy.KindPrompt, it.Name, nil) {
				t.Fatalf("hidden prompt %q reaches the client in %q", it.Name, out)
			}
		}
		for _, it := range m.Result.Resources {
			canon, ok := policy.CanonicalURI(it.URI)
			if !ok || !rt.policy.Visible(p.Principal, policy.KindResource, canon, nil) {
				t.Fatalf("hidden resource %q reaches the client in %q", it.URI, out)
			}
		}
	}
}

// FuzzFilterPayload: whatever list answer an upstream sends, a client
// decoding the filtered bytes case-insensitively (clientList) sees no
// item that policy hides from the caller (SPEC PX-7). The oracle is the
// policy itself, applied to what the client would read.
func FuzzFilterPayload(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"secret_x"},{"name":"echo"}]}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"toolſ":[{"name":"secret_x"}]}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"Tools":[{"name":"secret_x"}]}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"NAME":"secret_x","name":"echo"}]}}`,
		`[{"jsonrpc":"2.0","id":1,"result":{"promptſ":[{"name":"secret_p"}]}},{"jsonrpc":"2.0","id":2,"result":{}}]`,
		`{"jsonrpc":"2.0","id":1,"result":{"reſources":[{"uri":"file:///secret/a"}]}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"resources":[{"uri":"FILE:///secret/a"},{"uri":"file:///pub"}]}}`,
		`{"jsonrpc":"2.0","id":1,"Result":{"tools":[{"name":"secret_x"}]},"result":{}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"secret_x"}],"tools":[]}}`,
		`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`,
	} {
		f.Add([]byte(s))
	}
	rt, alice := filterRoute(f, "staff")
	f.Fuzz(func(t *testing.T, in []byte) {
		assertNothingHidden(t, rt, alice, rt.filterPayload(in, alice))
	})
}

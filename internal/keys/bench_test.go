package keys

import (
	"testing"

	"github.com/mcpgate/mcpgate/internal/storage/memory"
)

// BenchmarkSignES256 measures one access token's signature: the key is
// opened once when loaded, so this is ECDSA plus JOSE encoding.
func BenchmarkSignES256(b *testing.B) {
	m := newEnv(b).manager(b, memory.New())
	payload := []byte(`{"iss":"https://gw.example","sub":"local:alice","aud":"https://mcp.example/","exp":1773493200}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Sign(payload, "at+jwt"); err != nil {
			b.Fatal(err)
		}
	}
}

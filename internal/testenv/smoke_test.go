package testenv

import (
	"net/http"
	"testing"
)

func TestSmokeFlow(t *testing.T) {
	g := New(t, Options{})
	b := g.NewBrowser()
	tok := g.Login(b, PublicClient, g.Resource(FilesPath), Alice)
	t.Logf("%v", tok)
	rt, _ := tok["refresh_token"].(string)
	status, body := g.Refresh(PublicClient, "", rt, nil)
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, body)
	}
	t.Logf("%v", body)
}

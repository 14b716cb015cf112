package tokens

import (
	"errors"
	"testing"
)

func TestCanonicalResource(t *testing.T) {
	ok := map[string]string{
		"https://mcp.example.com":            "https://mcp.example.com",
		"https://mcp.example.com/":           "https://mcp.example.com",
		"HTTPS://MCP.Example.COM:443/":       "https://mcp.example.com",
		"https://mcp.example.com:0443/mcp":   "https://mcp.example.com/mcp",
		"https://mcp.example.com/mcp/":       "https://mcp.example.com/mcp",
		"https://mcp.example.com/mcp//":      "https://mcp.example.com/mcp",
		"https://mcp.example.com:8443/mcp":   "https://mcp.example.com:8443/mcp",
		"http://127.0.0.1:80/mcp":            "http://127.0.0.1/mcp",
		"http://127.0.0.1:8080/mcp":          "http://127.0.0.1:8080/mcp",
		"http://[::1]:8080/mcp":              "http://[::1]:8080/mcp",
		"http://[::1]:443/":                  "http://[::1]:443",
		"https://mcp.example.com/%6Dcp":      "https://mcp.example.com/mcp",
		"https://mcp.example.com/a%20b":      "https://mcp.example.com/a%20b",
		"https://mcp.example.com/Case/Kept/": "https://mcp.example.com/Case/Kept",
	}
	for in, want := range ok {
		got, err := CanonicalResource(in)
		if err != nil || got != want {
			t.Errorf("CanonicalResource(%q) = %q, %v; want %q", in, got, err, want)
		}
		// Canonical forms are fixed points.
		if again, err := CanonicalResource(got); err != nil || again != got {
			t.Errorf("CanonicalResource(%q) = %q, %v; not a fixed point", got, again, err)
		}
	}
	bad := []string{
		"", "mcp.example.com", "/mcp", "ftp://mcp.example.com", "https://", "https:///mcp",
		"https://mcp.example.com/mcp?x=1", "https://mcp.example.com/mcp?", "https://mcp.example.com/#f",
		"https://mcp.example.com/mcp#", "https://user@mcp.example.com/", "https://u:p@mcp.example.com/",
		"https://mcp.example.com:0/", "https://mcp.example.com:70000/", "https://mcp.example.com:x/",
		"https://mcp.example.com/a/../b", "https://mcp.example.com/./a", "https://mcp.example.com/a%2Fb",
		"https:mcp.example.com", "https://mcp.example.com/\x00",
	}
	for _, in := range bad {
		if got, err := CanonicalResource(in); !errors.Is(err, ErrInvalidResource) {
			t.Errorf("CanonicalResource(%q) = %q, %v; want ErrInvalidResource", in, got, err)
		}
	}
}

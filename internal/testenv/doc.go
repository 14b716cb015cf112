// Package testenv holds test fixtures shared across packages: a real
// gateway behind httptest with a known configuration, and a browser-like
// client that drives the authorization flow (cookie jar, forms,
// redirects). Later issues add fake IdPs, test upstreams and real MCP
// clients.
package testenv

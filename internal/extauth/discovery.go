package extauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxDocument bounds every document read from the AS (metadata, JWKS,
// introspection answers): a misbehaving or hostile endpoint must not make
// us buffer without limit.
const maxDocument = 1 << 20

// endpoints are what the verifier needs from the AS's metadata, with the
// operator's overrides applied.
type endpoints struct {
	jwks          string // "" when the AS publishes no keys
	introspection string // "" when not configured or not published
}

// metadata is the part of an RFC 8414 / OIDC Discovery document we read.
type metadata struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
}

// errNotFound marks a discovery URL that does not serve a document, so the
// next well-known location is tried.
var errNotFound = errors.New("no metadata document")

// needsDiscovery reports whether some endpoint must come from the metadata.
func (o *Options) needsDiscovery() bool {
	return o.JWKSURL == "" || (o.Introspection != nil && o.Introspection.URL == "")
}

// discover finds the AS's endpoints, fetching its metadata unless the
// options name every endpoint.
func (v *Verifier) discover(ctx context.Context) (endpoints, error) {
	o := &v.opts
	ep := endpoints{jwks: o.JWKSURL}
	if o.Introspection != nil {
		ep.introspection = o.Introspection.URL
	}
	if !o.needsDiscovery() {
		return ep, nil
	}
	md, err := v.fetchMetadata(ctx)
	if err != nil {
		return endpoints{}, err
	}
	if ep.jwks == "" && md.JWKSURI != "" {
		if err := checkEndpoint(md.JWKSURI); err != nil {
			return endpoints{}, fmt.Errorf("metadata jwks_uri: %w", err)
		}
		ep.jwks = md.JWKSURI
	}
	if o.Introspection != nil && ep.introspection == "" {
		if err := checkEndpoint(md.IntrospectionEndpoint); err != nil {
			return endpoints{}, fmt.Errorf("metadata introspection_endpoint: %w", err)
		}
		ep.introspection = md.IntrospectionEndpoint
	}
	return ep, nil
}

// fetchMetadata tries the well-known locations in order and returns the
// first document that exists and names our issuer.
func (v *Verifier) fetchMetadata(ctx context.Context) (metadata, error) {
	var firstErr error
	for _, u := range metadataURLs(v.opts.Issuer) {
		md, err := v.getMetadata(ctx, u)
		if err == nil {
			return md, nil
		}
		if firstErr == nil || errors.Is(firstErr, errNotFound) {
			firstErr = err // a wrong issuer says more than a 404
		}
		if !errors.Is(err, errNotFound) && !errors.Is(err, errIssuerMismatch) {
			break // the AS is unreachable or broken: the next URL fares no better
		}
	}
	return metadata{}, firstErr
}

var errIssuerMismatch = errors.New("metadata issuer differs from the configured issuer")

func (v *Verifier) getMetadata(ctx context.Context, u string) (metadata, error) {
	var md metadata
	if err := v.getJSON(ctx, u, &md); err != nil {
		return metadata{}, err
	}
	// RFC 8414 §3.3: the issuer in the document must be identical to the
	// one the document was looked up for, or an attacker who can serve a
	// document (for another tenant of the same host, say) could send us to
	// keys of their choosing: the mix-up defence.
	if md.Issuer != v.opts.Issuer {
		return metadata{}, fmt.Errorf("%w: %s names issuer %q", errIssuerMismatch, u, md.Issuer)
	}
	return md, nil
}

// metadataURLs lists where an issuer's metadata may live, in the order
// tried: RFC 8414 §3.1 (well-known segment inserted before the issuer's
// path), the issuer-suffixed form Okta custom authorization servers serve,
// then OpenID Connect Discovery 1.0 §4.
func metadataURLs(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	base := strings.TrimSuffix(issuer, "/")
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	urls := []string{
		u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + path,
		base + "/.well-known/oauth-authorization-server",
		base + "/.well-known/openid-configuration",
	}
	if urls[0] == urls[1] { // an issuer without a path
		urls = urls[1:]
	}
	return urls
}

// getJSON GETs u and decodes a bounded JSON body into dst.
func (v *Verifier) getJSON(ctx context.Context, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.opts.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return fmt.Errorf("%w at %s (status %d)", errNotFound, u, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	return decodeBounded(resp.Body, dst, u)
}

// decodeBounded decodes one JSON value of at most maxDocument bytes.
func decodeBounded(r io.Reader, dst any, what string) error {
	body, err := io.ReadAll(io.LimitReader(r, maxDocument+1))
	if err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	if len(body) > maxDocument {
		return fmt.Errorf("%s: response larger than %d bytes", what, maxDocument)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

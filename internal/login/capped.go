package login

import (
	"errors"
	"io"
	"net/http"
)

// errBodyTooLarge: a provider's answer was larger than any real one is.
var errBodyTooLarge = errors.New("login: provider answer too large")

// cappedTransport bounds every answer read from a provider, including
// the ones libraries read for us (go-oidc's discovery and JWKS, x/oauth2's
// token answers, which use a plain io.ReadAll): a hostile or broken IdP
// cannot make the gateway buffer an endless body. Reading past max is an
// error, never a silent truncation that could still parse.
type cappedTransport struct {
	base http.RoundTripper
	max  int64
}

func (t cappedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	// Read one byte past the cap, to tell "exactly max" from "more".
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// capped returns a copy of c whose answers are bounded by max.
func capped(c *http.Client, max int64) *http.Client {
	cc := *c
	base := cc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cc.Transport = cappedTransport{base: base, max: max}
	return &cc
}

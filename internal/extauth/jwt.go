package extauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// verifyJWT checks a compact JWS access token: header, key, signature,
// then claims.
func (v *Verifier) verifyJWT(ctx context.Context, token string, ks *keySet) (Claims, error) {
	payload, err := v.verifySignature(ctx, token, ks)
	if err != nil {
		return Claims{}, err
	}
	var raw rawClaims
	if err := json.Unmarshal(payload, &raw); err != nil || raw == nil {
		return Claims{}, invalid("claims are not a JSON object")
	}
	c, t, reason := decodeClaims(raw, v.opts.ScopeClaim)
	if reason != "" {
		return Claims{}, invalid("%s", reason)
	}
	if c.Issuer != v.opts.Issuer { // RFC 9068 §4: exact match
		return Claims{}, invalid("wrong issuer")
	}
	if !v.audienceOK(c.Audience) {
		return Claims{}, invalid("wrong audience")
	}
	if reason := v.checkTimes(t); reason != "" {
		return Claims{}, invalid("%s", reason)
	}
	return c, nil
}

// verifySignature parses the token, checks its header, finds its key and
// returns the verified payload.
func (v *Verifier) verifySignature(ctx context.Context, token string, ks *keySet) ([]byte, error) {
	// Compact serialisation only (the caller saw three parts): the JSON
	// serialisations can carry several signatures and unprotected headers,
	// which access tokens never use. The allow-list is enforced by the
	// parser, before any key is touched.
	jws, err := jose.ParseSignedCompact(token, allowedAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, invalid("%s", headerReason(token))
	}
	h := jws.Signatures[0].Protected
	// RFC 7797 unencoded payloads and other critical extensions have no
	// place in an access token (RFC 7797 §7); refusing them keeps the
	// signed bytes and the decoded claims the same bytes.
	if _, ok := h.ExtraHeaders["crit"]; ok {
		return nil, invalid("crit header present")
	}
	if _, ok := h.ExtraHeaders["b64"]; ok {
		return nil, invalid("b64 header present")
	}
	if !v.typeOK(h.ExtraHeaders[jose.HeaderType]) {
		return nil, invalid("typ is not %s", v.opts.TokenType)
	}
	cands, reason := ks.candidates(h.KeyID)
	if reason == reasonUnknownKID {
		// The AS may have rotated: look again, rate limited (refetch).
		_ = v.refetch(ctx, false)
		cands, reason = v.keys.Load().candidates(h.KeyID)
	}
	if reason != "" {
		return nil, invalid("%s", reason)
	}
	fitted := false
	for _, k := range cands {
		if !keyFits(h.Algorithm, k) {
			continue
		}
		fitted = true
		if payload, err := jws.Verify(k.Key); err == nil {
			return payload, nil
		}
	}
	if !fitted {
		return nil, invalid("key %q does not fit alg %s", h.KeyID, h.Algorithm)
	}
	return nil, invalid("bad signature")
}

// typeOK checks the typ header when Options.TokenType asks for one. With
// typ required, an ID token or other JWT the same AS signed with the same
// key cannot pass as an access token (RFC 8725 §3.11).
func (v *Verifier) typeOK(typ any) bool {
	if v.opts.TokenType == "" {
		return true
	}
	s, ok := typ.(string)
	return ok && normalType(s) == v.opts.TokenType
}

// headerReason explains a token the JWS parser refused, naming the alg when
// it is the cause: the interesting case in logs is a forger's "none" or
// "HS256". The alg is quoted and cut short; nothing else of the token is
// repeated.
func headerReason(token string) string {
	head, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "malformed JWS header"
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil {
		return "malformed JWS header"
	}
	for _, a := range allowedAlgs {
		if h.Alg == string(a) {
			return "malformed JWS"
		}
	}
	if len(h.Alg) > 16 {
		h.Alg = h.Alg[:16]
	}
	return "alg " + quote(h.Alg) + " not allowed"
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

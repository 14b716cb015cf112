package extauth

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mcpgate/mcpgate/internal/scope"
)

// Claims are what a verified token says about its bearer, from a JWT's
// payload or an introspection answer.
type Claims struct {
	Subject  string
	ClientID string // client_id (RFC 9068), cid (Okta) or azp, first present
	Email    string
	// EmailVerified is true only when email_verified is the JSON value true.
	EmailVerified bool
	Groups        []string // the groups claim, when present
	Scopes        []string // from Options.ScopeClaim (JWT) or scope (introspection)
	Expiry        time.Time
	JTI           string
	Issuer        string
	Audience      []string
}

// clone returns c with its own slices, so a cached value is never aliased
// by a caller that appends to it.
func (c Claims) clone() Claims {
	c.Groups = slices.Clone(c.Groups)
	c.Scopes = slices.Clone(c.Scopes)
	c.Audience = slices.Clone(c.Audience)
	return c
}

// rawClaims is a JSON object decoded one level deep. Reading claims from a
// map, not a struct, keeps names exact: encoding/json matches struct fields
// case-insensitively, which would read an "ISS" member as iss.
type rawClaims map[string]json.RawMessage

// decodeClaims reads the claims every token must have in a well-formed
// shape. scopeClaim names the scope claim. It checks no values.
func decodeClaims(raw rawClaims, scopeClaim string) (Claims, timeClaims, string) {
	var c Claims
	var t timeClaims
	var clientIDs [3]string
	fields := []struct {
		name string
		dst  any
	}{
		{"iss", &c.Issuer}, {"sub", &c.Subject}, {"jti", &c.JTI}, {"email", &c.Email},
		{"client_id", &clientIDs[0]}, {"cid", &clientIDs[1]}, {"azp", &clientIDs[2]},
		{"aud", (*audience)(&c.Audience)},
		{scopeClaim, (*stringOrList)(&c.Scopes)},
		{"groups", &c.Groups},
		{"exp", &t.exp}, {"nbf", &t.nbf}, {"iat", &t.iat},
	}
	for _, f := range fields {
		if v, ok := raw[f.name]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, f.dst); err != nil {
				return Claims{}, timeClaims{}, "malformed " + f.name + " claim"
			}
		}
	}
	for _, id := range clientIDs {
		if id != "" {
			c.ClientID = id
			break
		}
	}
	var verified bool
	if v, ok := raw["email_verified"]; ok && json.Unmarshal(v, &verified) == nil {
		c.EmailVerified = verified && c.Email != ""
	}
	if c.Subject == "" {
		return Claims{}, timeClaims{}, "no sub"
	}
	if t.exp == nil {
		return Claims{}, timeClaims{}, "no exp"
	}
	c.Expiry = time.Time(*t.exp)
	return c, t, ""
}

// stringOrList decodes a scope claim: a string of scope-tokens separated
// by single spaces (RFC 6749 §3.3, RFC 9068 scope) or an array of strings
// (Okta scp). Only valid scope-tokens are kept (package scope): a tab or a
// Unicode space separates nothing, so "read\tadmin" grants neither read
// nor admin, as the authorization server that issued it means it.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = scope.Tokens(one)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*s = nil
	for _, v := range list {
		if scope.ValidToken(v) && !slices.Contains(*s, v) {
			*s = append(*s, v)
		}
	}
	return nil
}

// audience decodes aud: one string or an array of strings (RFC 7519
// §4.1.3). A string is one audience, never split: "api://mcp other" is
// not "api://mcp".
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// timeClaims are exp, nbf and iat as found; nil when absent.
type timeClaims struct {
	exp, nbf, iat *numericDate
}

// numericDate is RFC 7519 §2 NumericDate: seconds since the epoch, possibly
// fractional (truncated to the second). Values outside the years
// 1970..9999 are refused, which also keeps the conversion to int64 defined.
type numericDate time.Time

// maxNumericDate is 9999-12-31T23:59:59Z.
const maxNumericDate = 253402300799

func (d *numericDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return fmt.Errorf("NumericDate %v out of range", f)
	}
	*d = numericDate(time.Unix(int64(f), 0))
	return nil
}

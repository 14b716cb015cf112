package tokens

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage/memory"
)

// FuzzVerify: no input panics, and nothing verifies but a token we minted.
// Oracle: a verified token's claims are exactly those Mint returned for it,
// and re-minting them yields a token that verifies to the same claims
// (apart from the fresh jti).
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, memory.New())
	tok, minted := fx.mustMint(f, testGrant())
	payload, err := json.Marshal(minted)
	if err != nil {
		f.Fatal(err)
	}
	signed, err := fx.keys.signer.Sign(payload)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		tok, "", ".", "..", "a.b.c", tok + ".", tok[:len(tok)-2], signed.FullSerialize(),
		"eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + b64.EncodeToString(payload) + ".",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := fx.ver.Verify(t.Context(), s, testResource)
		if err != nil {
			if !reflect.DeepEqual(c, Claims{}) {
				t.Fatalf("claims returned with error %v", err)
			}
			return
		}
		if !reflect.DeepEqual(c, minted) {
			t.Fatalf("verified claims %+v were never minted", c)
		}
		remintVerify(t, fx, c)
	})
}

func remintVerify(t *testing.T, fx *fixture, c Claims) {
	t.Helper()
	g := Grant{
		Subject: c.Subject, ClientID: c.ClientID, Resource: c.Audience[0], FamilyID: c.SID,
		ProviderID: c.IDP, Scopes: c.Scopes(), Groups: c.Groups, AuthTime: time.Unix(c.AuthTime, 0),
		Email: c.Email, EmailVerified: c.EmailVerified,
	}
	tok2, c2, err := fx.mint.Mint(g)
	if err != nil {
		t.Fatalf("re-mint: %v", err)
	}
	c3, err := fx.ver.Verify(t.Context(), tok2, testResource)
	if err != nil {
		t.Fatalf("re-minted token: %v", err)
	}
	c2.JTI, c3.JTI = c.JTI, c.JTI
	if !reflect.DeepEqual(c3, c) || !reflect.DeepEqual(c2, c) {
		t.Fatalf("re-mint drifted:\n got %+v\nwant %+v", c3, c)
	}
}

// FuzzParseHandle: a handle parses only in its one canonical spelling,
// with a 16-byte ID and a 32-byte secret.
func FuzzParseHandle(f *testing.F) {
	_, _, h := newHandle()
	for _, seed := range []string{h, "", ".", h + ".", h[:len(h)-1], h[:len(h)-1] + "_", "." + h} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, ok := ParseHandle(s)
		if !ok {
			if id != "" || secret != nil {
				t.Fatalf("refused %q but returned %q, %x", s, id, secret)
			}
			return
		}
		raw, err := handleEncoding.DecodeString(id)
		if err != nil || len(raw) != handleIDBytes || len(secret) != handleSecretBytes {
			t.Fatalf("accepted %q: id %q, secret %d bytes", s, id, len(secret))
		}
		if id+"."+handleEncoding.EncodeToString(secret) != s {
			t.Fatalf("accepted non-canonical %q", s)
		}
	})
}

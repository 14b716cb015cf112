package tokens

import (
	"errors"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var errRefusedByCaller = errors.New("refused by the caller's check")

// A refused check consumes nothing: the same handle then rotates normally
// (SPEC AS-4: a refresh naming another upstream does not cost the client
// its grant).
func TestRotateIfRefusalConsumesNothing(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		fam, h0 := f.startFamily(t, "local:alice")
		var saw storage.RefreshFamily
		res, err := f.ref.RotateIf(t.Context(), h0, "client-a", func(got storage.RefreshFamily) error {
			saw = got
			return errRefusedByCaller
		})
		if !errors.Is(err, errRefusedByCaller) || res.Handle != "" {
			t.Fatalf("RotateIf = %+v, %v; want the check's error and no handle", res, err)
		}
		if saw.ID != fam.ID || saw.Resource != fam.Resource {
			t.Fatalf("check saw %+v, want the handle's family", saw)
		}
		id, _, _ := ParseHandle(h0)
		if tok, _ := s.GetRefreshToken(t.Context(), id); !tok.UsedAt.IsZero() {
			t.Fatal("a refused check consumed the token")
		}
		if res := f.rotate(t, h0, "client-a"); res.Handle == "" || res.Replayed {
			t.Fatalf("the handle no longer rotates after a refused check: %+v", res)
		}
	})
}

// Reuse outside the grace window is detected before the caller's check: an
// attacker replaying a stolen handle cannot dodge the family's revocation
// by asking for something the check refuses.
func TestRotateIfReuseDetectedBeforeCheck(t *testing.T) {
	backends(t, func(t *testing.T, s storage.Store) {
		f := newFixture(t, s)
		fam, h0 := f.startFamily(t, "local:alice")
		f.rotate(t, h0, "client-a")
		f.clk.Advance(time.Hour) // past the grace window
		_, err := f.ref.RotateIf(t.Context(), h0, "client-a", func(storage.RefreshFamily) error { return errRefusedByCaller })
		if !errors.Is(err, ErrReuse) {
			t.Fatalf("reuse with a refusing check = %v, want ErrReuse", err)
		}
		if got, _ := s.GetRefreshFamily(t.Context(), fam.ID); !got.Revoked() {
			t.Fatal("the family was not revoked")
		}
	})
}

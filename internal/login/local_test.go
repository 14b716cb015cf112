package login

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/config"
)

func TestLocalLoginArgon2id(t *testing.T) {
	l := newLocal(t, config.LocalUser{Username: "alice", PasswordHash: fastArgon2(t, "s3cret"),
		Email: "alice@example.com", Groups: []string{"admins", "dev"}})
	id, err := l.Login(context.Background(), "alice", "s3cret")
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	want := Identity{Subject: "alice", Username: "alice", Name: "alice", Email: "alice@example.com",
		EmailVerified: true, Groups: []string{"admins", "dev"}, ConnectorData: l.users["alice"].stamp}
	if !reflect.DeepEqual(id, want) {
		t.Errorf("identity = %+v, want %+v", id, want)
	}
	for _, pw := range []string{"s3cre", "s3cret ", "S3cret", "x"} {
		if _, err := l.Login(context.Background(), "alice", pw); err != ErrBadCredentials {
			t.Errorf("password %q: err = %v, want ErrBadCredentials", pw, err)
		}
	}
}

func TestLocalLoginBcrypt(t *testing.T) {
	l := newLocal(t, config.LocalUser{Username: "bob", PasswordHash: fastBcrypt(t, "hunter2")})
	id, err := l.Login(context.Background(), "bob", "hunter2")
	if err != nil || id.Subject != "bob" {
		t.Fatalf("right password: %+v, %v", id, err)
	}
	if id.EmailVerified {
		t.Error("EmailVerified without an email")
	}
	if _, err := l.Login(context.Background(), "bob", "hunter3"); err != ErrBadCredentials {
		t.Errorf("wrong password: err = %v, want ErrBadCredentials", err)
	}
}

func TestLocalUnknownUserGetsTheSameError(t *testing.T) {
	l := newLocal(t, config.LocalUser{Username: "alice", PasswordHash: fastArgon2(t, "s3cret")})
	_, wrong := l.Login(context.Background(), "alice", "nope")
	_, unknown := l.Login(context.Background(), "mallory", "s3cret")
	if unknown != ErrBadCredentials || wrong != unknown {
		t.Errorf("unknown user: %v; wrong password: %v; want the same ErrBadCredentials", unknown, wrong)
	}
}

// The verdict for an unknown user never depends on the dummy hash: even a
// dummy that happened to match the password does not let anyone in.
func TestLocalUnknownUserFailsEvenIfTheDummyMatches(t *testing.T) {
	l := newLocal(t, config.LocalUser{Username: "alice", PasswordHash: fastArgon2(t, "s3cret")})
	l.dummy = l.users["alice"].hash
	if _, err := l.Login(context.Background(), "mallory", "s3cret"); err != ErrBadCredentials {
		t.Errorf("err = %v, want ErrBadCredentials", err)
	}
}

func TestLocalUsernameIsCaseSensitive(t *testing.T) {
	l := newLocal(t, config.LocalUser{Username: "alice", PasswordHash: fastArgon2(t, "s3cret")})
	for _, name := range []string{"Alice", "ALICE", "alice ", " alice"} {
		if _, err := l.Login(context.Background(), name, "s3cret"); err != ErrBadCredentials {
			t.Errorf("username %q: err = %v, want ErrBadCredentials", name, err)
		}
	}
}

// An empty password fails even against a hash of "", and an overlong one
// is refused before any hashing; a password of exactly MaxPasswordBytes
// still works.
func TestLocalPasswordLengthLimits(t *testing.T) {
	emptyHash := phc{memory: 64, time: 1, threads: 1, salt: []byte("saltsalt")}
	emptyHash.key = realHashers.argon2id(nil, emptyHash.salt, 1, 64, 1, 32)
	long := strings.Repeat("p", MaxPasswordBytes)
	l := newLocal(t,
		config.LocalUser{Username: "empty", PasswordHash: emptyHash.String()},
		config.LocalUser{Username: "long", PasswordHash: fastArgon2(t, long)})
	calls := countHashers(l)
	for _, c := range []struct{ user, pw string }{{"empty", ""}, {"long", long + "p"}, {"", "x"}, {strings.Repeat("u", 257), "x"}} {
		if _, err := l.Login(context.Background(), c.user, c.pw); err != ErrBadCredentials {
			t.Errorf("%.10q/%d bytes: err = %v, want ErrBadCredentials", c.user, len(c.pw), err)
		}
	}
	if len(*calls) != 0 {
		t.Errorf("%d hashes ran for input refused up front", len(*calls))
	}
	if _, err := l.Login(context.Background(), "long", long); err != nil {
		t.Errorf("a %d-byte password: %v", MaxPasswordBytes, err)
	}
}

// Timing equalisation, checked by counting instead of timing: an unknown
// username runs exactly one hash, with the first user's algorithm and
// parameters, against the dummy hash.
func TestLocalUnknownUserRunsADummyArgon2Hash(t *testing.T) {
	h, err := HashArgon2idParams("s3cret", 96, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	l := newLocal(t, config.LocalUser{Username: "alice", PasswordHash: h},
		config.LocalUser{Username: "bob", PasswordHash: fastBcrypt(t, "x")})
	calls := countHashers(l)
	if _, err := l.Login(context.Background(), "mallory", "guess"); err != ErrBadCredentials {
		t.Fatalf("err = %v", err)
	}
	alice := l.users["alice"].hash.argon
	want := []hashCall{{algo: "argon2id", time: 2, memory: 96, threads: 2, key: uint32(len(alice.key)), salt: l.dummy.argon.salt}}
	if !reflect.DeepEqual(*calls, want) {
		t.Fatalf("hash calls = %+v, want %+v", *calls, want)
	}
	if string(l.dummy.argon.salt) == string(alice.salt) || string(l.dummy.argon.key) == string(alice.key) {
		t.Error("the dummy hash reuses alice's salt or tag")
	}
}

func TestLocalUnknownUserRunsADummyBcryptHash(t *testing.T) {
	l := newLocal(t, config.LocalUser{Username: "bob", PasswordHash: fastBcrypt(t, "x")})
	calls := countHashers(l)
	if _, err := l.Login(context.Background(), "mallory", "x"); err != ErrBadCredentials {
		t.Fatalf("err = %v", err)
	}
	if len(*calls) != 1 || (*calls)[0].algo != "bcrypt" || (*calls)[0].bcryptCost != 4 ||
		string((*calls)[0].bcryptHash) == l.users["bob"].cfg.PasswordHash {
		t.Fatalf("hash calls = %+v, want one bcrypt call at cost 4 against the dummy", *calls)
	}
}

func TestNewLocalRefusesMalformedHashes(t *testing.T) {
	good := fastArgon2(t, "pw")
	parts := strings.Split(good, "$")
	for name, hash := range map[string]string{
		"plaintext":        "correct horse battery staple",
		"empty":            "",
		"argon2i":          strings.Replace(good, "$argon2id$", "$argon2i$", 1),
		"version 16":       strings.Replace(good, "v=19", "v=16", 1),
		"params order":     strings.Replace(good, "m=64,t=1,p=1", "t=1,m=64,p=1", 1),
		"salt not base64":  strings.Join([]string{"", parts[1], parts[2], parts[3], "sa!t" + parts[4], parts[5]}, "$"),
		"newline in tag":   good[:len(good)-4] + "\n" + good[len(good)-4:],
		"padded tag":       good + "=",
		"missing tag":      strings.Join(parts[:5], "$"),
		"bcrypt truncated": fastBcrypt(t, "pw")[:59],
		"bcrypt 2x":        strings.Replace(fastBcrypt(t, "pw"), "$2a$", "$2x$", 1),
	} {
		_, err := NewLocal(localProvider(
			config.LocalUser{Username: "alice", PasswordHash: good},
			config.LocalUser{Username: "bob", PasswordHash: hash}))
		switch {
		case err == nil:
			t.Errorf("%s: accepted", name)
		case !strings.Contains(err.Error(), `user "bob": password_hash`):
			t.Errorf("%s: error does not name the user and field: %v", name, err)
		case len(hash) > 8 && strings.Contains(err.Error(), hash[8:]):
			t.Errorf("%s: error quotes the hash: %v", name, err)
		}
	}
}

// Absurd parameters would let a bad config make every login attempt
// allocate gigabytes or take seconds; they are refused before any hashing.
func TestNewLocalRefusesAbsurdHashParameters(t *testing.T) {
	argon := func(m, tm uint32, p uint8, salt, key int) string {
		return phc{memory: m, time: tm, threads: p, salt: randomBytes(salt), key: randomBytes(key)}.String()
	}
	for name, hash := range map[string]string{
		"memory over 1 GiB":  argon(MaxArgon2MemoryKiB+1, 1, 1, 16, 32),
		"memory below 8*p":   argon(31, 1, 4, 16, 32),
		"time 17":            argon(64, MaxArgon2Time+1, 1, 16, 32),
		"time 0":             argon(64, 0, 1, 16, 32),
		"threads 65":         argon(1024, 1, MaxArgon2Threads+1, 16, 32),
		"threads 0":          argon(64, 1, 0, 16, 32),
		"threads 256":        strings.Replace(argon(64, 1, 1, 16, 32), "p=1", "p=256", 1),
		"memory over uint32": strings.Replace(argon(64, 1, 1, 16, 32), "m=64", "m=4294967296", 1),
		"salt 7 bytes":       argon(64, 1, 1, 7, 32),
		"tag 15 bytes":       argon(64, 1, 1, 16, 15),
		"tag 65 bytes":       argon(64, 1, 1, 16, 65),
		"bcrypt cost 16":     strings.Replace(fastBcrypt(t, "pw"), "$04$", "$16$", 1),
		"bcrypt cost 31":     strings.Replace(fastBcrypt(t, "pw"), "$04$", "$31$", 1),
	} {
		_, err := NewLocal(localProvider(config.LocalUser{Username: "carol", PasswordHash: hash}))
		if err == nil || !strings.Contains(err.Error(), `user "carol"`) {
			t.Errorf("%s: err = %v, want a refusal naming carol", name, err)
		}
	}
	// The limits themselves are accepted (never hashed here).
	if _, err := NewLocal(localProvider(config.LocalUser{Username: "dave",
		PasswordHash: argon(MaxArgon2MemoryKiB, MaxArgon2Time, MaxArgon2Threads, 64, 64)})); err != nil {
		t.Errorf("parameters at the limits refused: %v", err)
	}
}

func TestNewLocalRefusesBadProviders(t *testing.T) {
	h := fastArgon2(t, "pw")
	for name, p := range map[string]config.IdentityProvider{
		"not local":    {ID: "x", Type: "oidc", Users: []config.LocalUser{{Username: "a", PasswordHash: h}}},
		"no users":     localProvider(),
		"no username":  localProvider(config.LocalUser{PasswordHash: h}),
		"duplicate":    localProvider(config.LocalUser{Username: "a", PasswordHash: h}, config.LocalUser{Username: "a", PasswordHash: h}),
		"long usernme": localProvider(config.LocalUser{Username: strings.Repeat("a", 257), PasswordHash: h}),
	} {
		if _, err := NewLocal(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The connector keeps its own copy of groups: a caller editing a returned
// Identity (or the config slice) changes nothing for the next login.
func TestLocalGroupsAreCopied(t *testing.T) {
	groups := []string{"dev"}
	l := newLocal(t, config.LocalUser{Username: "alice", PasswordHash: fastArgon2(t, "pw"), Groups: groups})
	groups[0] = "admins"
	id, _ := l.Login(context.Background(), "alice", "pw")
	id.Groups[0] = "root"
	id2, _ := l.Login(context.Background(), "alice", "pw")
	if !reflect.DeepEqual(id2.Groups, []string{"dev"}) {
		t.Errorf("groups = %v, want [dev]", id2.Groups)
	}
}

func TestLocalRefresh(t *testing.T) {
	alice := config.LocalUser{Username: "alice", PasswordHash: fastArgon2(t, "pw"), Groups: []string{"dev"}}
	bob := config.LocalUser{Username: "bob", PasswordHash: fastArgon2(t, "pw2")}
	id, err := newLocal(t, alice, bob).Login(context.Background(), "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}

	moved := alice
	moved.Groups = []string{"dev", "admins"}
	moved.Email = "alice@example.com"
	got, err := newLocal(t, moved, bob).Refresh(context.Background(), id)
	if err != nil || !reflect.DeepEqual(got.Groups, moved.Groups) || got.Email != moved.Email {
		t.Errorf("changed groups: %+v, %v", got, err)
	}

	if _, err := newLocal(t, bob).Refresh(context.Background(), id); !errors.Is(err, ErrUserGone) {
		t.Errorf("removed user: err = %v, want ErrUserGone", err)
	}

	reset := alice
	reset.PasswordHash = fastArgon2(t, "pw")
	if _, err := newLocal(t, reset).Refresh(context.Background(), id); !errors.Is(err, ErrUserGone) {
		t.Errorf("password reset: err = %v, want ErrUserGone", err)
	}
	id.ConnectorData = nil
	if _, err := newLocal(t, reset).Refresh(context.Background(), id); err != nil {
		t.Errorf("no ConnectorData, user present: %v", err)
	}
}

// Verifications are bounded by a memory budget: 64 MiB hashes get four
// slots (or fewer CPUs), a 1 GiB hash one, and bcrypt one per CPU.
func TestLocalVerificationSlots(t *testing.T) {
	argon := func(m uint32) string {
		return phc{memory: m, time: 1, threads: 1, salt: randomBytes(16), key: randomBytes(32)}.String()
	}
	cpus := runtime.GOMAXPROCS(0)
	for _, c := range []struct {
		hash string
		want int
	}{
		{argon(64 << 10), min(4, cpus)},
		{argon(MaxArgon2MemoryKiB), 1},
		{fastBcrypt(t, "pw"), cpus},
	} {
		l := newLocal(t, config.LocalUser{Username: "a", PasswordHash: fastArgon2(t, "pw")},
			config.LocalUser{Username: "b", PasswordHash: c.hash})
		if cap(l.slots) != c.want {
			t.Errorf("slots = %d, want %d", cap(l.slots), c.want)
		}
	}
}

// With every slot busy, a login waits, and gives up with ctx's error
// rather than a verdict.
func TestLocalLoginWaitsForASlot(t *testing.T) {
	l := newLocal(t, config.LocalUser{Username: "alice", PasswordHash: fastArgon2(t, "pw")})
	for range cap(l.slots) {
		l.slots <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Login(ctx, "alice", "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	<-l.slots
	if _, err := l.Login(context.Background(), "alice", "pw"); err != nil {
		t.Fatalf("after a slot freed: %v", err)
	}
	if len(l.slots) != cap(l.slots)-1 {
		t.Errorf("a login kept its slot: %d of %d in use", len(l.slots), cap(l.slots))
	}
}

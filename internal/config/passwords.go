package config

import (
	"encoding/base64"
	"regexp"
	"strings"
)

// passwordHashProblem says what is wrong with a local user's password hash,
// or "". SPEC HD-3 and ID-4: only argon2id and bcrypt hashes are accepted;
// anything else is taken for a plaintext password and refused, so a
// password never sits in the config file. The value is never quoted.
func passwordHashProblem(h string) string {
	switch {
	case h == "":
		return "required (an argon2id or bcrypt hash)"
	case strings.HasPrefix(h, "$argon2id$"):
		if !argon2idShape(h) {
			return "malformed argon2id hash (want $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>)"
		}
	case strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"), strings.HasPrefix(h, "$2y$"):
		if !bcryptRE.MatchString(h) {
			return "malformed bcrypt hash (want 60 characters: $2b$<cost>$<salt and hash>)"
		}
	default:
		return "must be an argon2id or bcrypt hash; plaintext passwords are refused"
	}
	return ""
}

// bcryptRE is the modular crypt form: version, two-digit cost, then 22
// salt and 31 hash characters of bcrypt's base64 alphabet (60 in all).
var bcryptRE = regexp.MustCompile(`^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$`)

var (
	argon2VersionRE = regexp.MustCompile(`^v=\d+$`)
	argon2ParamsRE  = regexp.MustCompile(`^m=\d+,t=\d+,p=\d+$`)
	rawBase64RE     = regexp.MustCompile(`^[A-Za-z0-9+/]+$`)
)

// argon2idShape loosely checks the PHC string form
// $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>, salt and hash in unpadded
// standard base64. The parameters themselves are the login package's
// concern.
func argon2idShape(h string) bool {
	parts := strings.Split(h, "$")
	if len(parts) != 6 || !argon2VersionRE.MatchString(parts[2]) || !argon2ParamsRE.MatchString(parts[3]) {
		return false
	}
	for _, b64 := range parts[4:] {
		// The alphabet check comes first because the decoder skips '\n'.
		if !rawBase64RE.MatchString(b64) {
			return false
		}
		if _, err := base64.RawStdEncoding.DecodeString(b64); err != nil {
			return false
		}
	}
	return true
}

package sqlstore

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedactDSN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// URLs.
		{"postgres://u:pass@host/db", "postgres://u:xxxxx@host/db"},
		{"postgresql://u:pass@host:5432/db?sslmode=disable", "postgresql://u:xxxxx@host:5432/db?sslmode=disable"},
		{"postgres://u@host/db", "postgres://u@host/db"},
		{"postgres://host/db", "postgres://host/db"},
		{"postgres://u:p%40ss%2Fw@host/db", "postgres://u:xxxxx@host/db"},
		{"postgres://u@host/db?password=pass&sslmode=require", "postgres://u@host/db?password=xxxxx&sslmode=require"},
		{"postgres://u:a@host/db?sslpassword=keypass", "postgres://u:xxxxx@host/db?sslpassword=xxxxx"},
		{"postgres://u@host/db?PassWord=pass", "postgres://u@host/db?PassWord=xxxxx"},
		{"postgres://u@host/db?pass%77ord=pass", "postgres://u@host/db?password=xxxxx"},
		// Unparseable URLs: a raw '/', '#', '%' or '@' in the password.
		{"postgres://u:pa/ss@host/db", "postgres://u:xxxxx@host/db"},
		{"postgres://u:pa#ss@host/db", "postgres://u:xxxxx@host/db"},
		{"postgres://u:p%zzass@host/db?sslmode=disable", "postgres://u:xxxxx@host/db?sslmode=disable"},
		{"postgres://u:p@ss@host/db", "postgres://u:xxxxx@host/db"},
		{"postgres://u:p%zz@host/db?password=x", "postgres://u:xxxxx@host/db?password=xxxxx"},
		// ... and ones that parse, wrongly, as a port and path or a fragment.
		{"postgres://u:12/34@host/db", "postgres://u:xxxxx@host/db"},
		{"postgres://u:12?34@host/db", "postgres://u:xxxxx@host/db"},
		{"postgres://user:@00#@host/db", "postgres://user:xxxxx@host/db"},
		{"postgres://u:pw@host/db?application_name=a@b", "postgres://u:xxxxx@b"},
		// Keyword/value.
		{"host=h user=u password=pass dbname=db", "host=h user=u password=xxxxx dbname=db"},
		{"host=h password = pass user=u", "host=h password = xxxxx user=u"},
		{"host=h password='p a s s' user=u", "host=h password=xxxxx user=u"},
		{`host=h password='p\'a ss' user=u`, "host=h password=xxxxx user=u"},
		{"password='unterminated user=u", "password=xxxxx"},
		{"host=h PASSWORD=pass sslpassword=kp", "host=h PASSWORD=xxxxx sslpassword=xxxxx"},
		{"host=h options='-c x=://' password=pass", "host=h options='-c x=://' password=xxxxx"},
		{`host=h password=p\ a\ss user=u`, "host=h password=xxxxx user=u"},
		{`host=h password=pass\`, "host=h password=xxxxx"},
		{"host=h user=u", "host=h user=u"},
		// SQLite paths.
		{"/var/lib/mcpgate/mcpgate.db", "/var/lib/mcpgate/mcpgate.db"},
		{"data/my db.sqlite", "data/my db.sqlite"},
		{"", ""},
	} {
		if got := RedactDSN(tc.in); got != tc.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzRedactDSN checks the property that matters: the password does not
// survive redaction, whatever it contains, in any DSN form. Where the
// password is properly quoted or escaped the output must not depend on it
// at all; in a raw URL (a password with '@', '/', '#' the user did not
// encode) it must at least not appear.
func FuzzRedactDSN(f *testing.F) {
	for _, p := range []string{"secret", "p@ss/w#rd", "it's", `back\slash`, "sp ace", "%zz", "a=b&c", "12/34"} {
		f.Add(p)
	}
	quote := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	escaped := []func(string) string{
		func(p string) string {
			return "postgres://user:" + url.QueryEscape(p) + "@db.example:5432/mcpgate?sslmode=require"
		},
		func(p string) string { return "postgres://user@db.example/mcpgate?password=" + url.QueryEscape(p) },
		func(p string) string {
			return "host=db.example user=user password='" + quote.Replace(p) + "' dbname=mcpgate"
		},
		func(p string) string {
			var b strings.Builder
			for _, r := range p {
				if strings.ContainsRune(" \t\n\v\f\r\\", r) {
					b.WriteByte('\\')
				}
				b.WriteRune(r)
			}
			return "host=db.example password=" + b.String() + " dbname=mcpgate"
		},
	}
	raw := func(p string) string { return "postgres://user:" + p + "@db.example:5432/mcpgate" }
	f.Fuzz(func(t *testing.T, pass string) {
		if pass == "" || strings.ContainsRune(pass, 0) || strings.HasPrefix(pass, "'") {
			t.Skip()
		}
		for _, form := range escaped {
			if got, want := RedactDSN(form(pass)), RedactDSN(form("PW")); got != want {
				t.Errorf("RedactDSN(%q) = %q, but with password PW it is %q", form(pass), got, want)
			}
		}
		if len(pass) >= 4 && !strings.Contains(RedactDSN(raw("PW")), pass) && strings.Contains(RedactDSN(raw(pass)), pass) {
			t.Errorf("RedactDSN(%q) = %q still holds the password", raw(pass), RedactDSN(raw(pass)))
		}
	})
}

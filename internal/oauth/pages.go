package oauth

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/reqid"
	"github.com/mcpgate/mcpgate/internal/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

type pages struct{ t *template.Template }

func newPages() (*pages, error) {
	t, err := template.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &pages{t: t}, nil
}

// pageData is what every page template receives.
type pageData struct {
	Title     string
	Nonce     string
	RequestID string
	Data      any
}

// pageHeaders marks every page of the flow uncacheable: they carry
// pending authorization IDs and forms. The server sets the headers every
// response carries (no framing, no sniffing, no referrer; SPEC HD-1), and
// render adds a CSP that allows nothing but the page's own nonce-tagged
// style and forbids framing again (frame-ancestors 'none').
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// maxPageFormBytes caps the body of every form the pages accept (SPEC
// HD-2). Real forms are well under 2 KiB (POST /oauth/authorize carries
// the most, each parameter bounded in authorize.go); without a cap,
// r.ParseForm reads up to net/http's default of 10 MB for anyone who
// posts to the login form, and a megabyte "username" went on into the
// login throttle's keys and the audit log.
const maxPageFormBytes = 16 << 10

// limitBody caps the request body at n bytes. A body declared larger is
// refused at once with 413; one that turns out larger (chunked, no
// Content-Length) stops at n bytes, so a handler's ParseForm fails and it
// shows its "could not be read" page (400). Either way nothing past n
// bytes is read.
func (p *Provider) limitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			p.showError(w, r, &Error{Code: "invalid_request", Status: http.StatusRequestEntityTooLarge, NoRedirect: true,
				Description: "The form is too large."})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

// csrf refuses cross-origin POSTs to the pages (Fetch metadata and Origin
// checks, Go's CrossOriginProtection). The consent and login handlers
// additionally require the flow cookie bound to the pending authorization,
// which a cross-site attacker cannot present.
func csrf(next http.Handler) http.Handler {
	return http.NewCrossOriginProtection().Handler(next)
}

// render writes a page with a fresh CSP nonce.
func (p *Provider) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	nonce := randomString(16)
	var buf bytes.Buffer
	err := p.pages.t.ExecuteTemplate(&buf, name, pageData{Title: title, Nonce: nonce, RequestID: reqid.From(r.Context()), Data: data})
	if err != nil {
		p.Log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// showError shows an error on a page. Used for everything that must not
// be redirected (bad client, bad redirect URI) and for failures inside the
// AS's own pages.
func (p *Provider) showError(w http.ResponseWriter, r *http.Request, e *Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	p.Metrics.OAuthError("page", e.Code)
	p.render(w, r, status, "error.html", "Sign-in error", e)
}

func (p *Provider) renderMessage(w http.ResponseWriter, r *http.Request, title, msg string) {
	p.render(w, r, http.StatusOK, "message.html", title, msg)
}

type scopeView struct{ Name, Description string }

type consentView struct {
	ClientName, ClientID, Registration, RedirectHost string
	Resource, ResourceName, RequestID, SignedInAs    string
	Scopes                                           []scopeView
	LocalhostOnly, Unverified                        bool
}

var registrationNames = map[storage.ClientSource]string{
	storage.ClientSourceConfig: "the gateway's administrators (pre-registered)",
	storage.ClientSourceDCR:    "itself (dynamic registration)",
	storage.ClientSourceCIMD:   "its publisher (client metadata document)",
}

func (p *Provider) renderConsent(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, c Client, sess storage.BrowserSession, signedIn bool) {
	v := consentView{
		ClientName: displayName(c), ClientID: c.ID, Registration: registrationNames[c.Source],
		RedirectHost: redirectHost(req.RedirectURI), Resource: req.Resource, ResourceName: req.Resource,
		RequestID: req.ID, LocalhostOnly: allLoopback(c.RedirectURIs), Unverified: c.Source == storage.ClientSourceDCR,
	}
	if signedIn {
		v.SignedInAs = sess.Subject
	}
	for _, s := range req.Scopes {
		v.Scopes = append(v.Scopes, scopeView{Name: s, Description: p.scopes.Description(s)})
	}
	p.render(w, r, http.StatusOK, "consent.html", "Approve access", v)
}

func displayName(c Client) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// redirectHost is what the consent page shows of a redirect URI: the host
// for web and loopback redirects, the whole URI for a private-use scheme
// (its scheme is the only identity it has).
func redirectHost(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		return u.Host
	}
	return uri
}

func allLoopback(uris []string) bool {
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "http" {
			return false
		}
		h := u.Hostname()
		if h != "localhost" && h != "::1" && !strings.HasPrefix(h, "127.") {
			return false
		}
	}
	return len(uris) > 0
}

type loginView struct {
	ClientName, RequestID, Provider string
	Failed                          bool
}

func (p *Provider) renderLogin(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, c Client, conn login.PasswordConnector, failed string) {
	p.render(w, r, http.StatusOK, "login.html", "Sign in", loginView{
		ClientName: displayName(c), RequestID: req.ID, Provider: conn.ID(), Failed: failed != "",
	})
}

type providerLink struct{ Name, URL string }

func (p *Provider) renderChooser(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, c Client) {
	var links []providerLink
	for _, conn := range p.Connectors {
		q := url.Values{"req": {req.ID}, "provider": {conn.ID()}}
		links = append(links, providerLink{Name: conn.DisplayName(), URL: "/oauth/login?" + q.Encode()})
	}
	p.render(w, r, http.StatusOK, "chooser.html", "Choose how to sign in", struct {
		ClientName string
		Providers  []providerLink
	}{displayName(c), links})
}

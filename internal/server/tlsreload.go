package server

import (
	"crypto/tls"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
)

// certCheckInterval is how often, at most, a handshake looks at the
// certificate files. Certificates are renewed days before they expire
// (certbot, cert-manager), so a few seconds of delay cost nothing, and a
// flood of handshakes costs at most one pair of stats per interval.
const certCheckInterval = 5 * time.Second

// certReloader serves tls.cert_file and tls.key_file, re-reading them when
// either file's modification time or size changes, so a renewed
// certificate is served on the next handshake without a restart. A new
// pair that does not load (a half-written file, a key that does not match
// the certificate yet) is logged and the previous certificate kept: a
// renewal mid-write must not take the gateway off the air. The files are
// compared by stat, which follows symlinks, so the symlink swap of a
// Kubernetes secret volume counts as a change.
type certReloader struct {
	certFile, keyFile string
	now               func() time.Time
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]fileStamp // of the files when last loaded or tried
	failing bool         // the last load failed
	checked time.Time
}

// fileStamp is what tells a changed file from an unchanged one.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(name string) fileStamp {
	fi, err := os.Stat(name)
	if err != nil {
		return fileStamp{} // gone: a change, and the load reports why
	}
	return fileStamp{fi.ModTime(), fi.Size()}
}

// newCertReloader loads the pair; a pair that does not load stops start-up.
func newCertReloader(t config.TLS, now func() time.Time, log *slog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: t.CertFile, keyFile: t.KeyFile, now: now, log: log}
	c.stamp = c.stamps()
	cert, err := config.LoadKeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, err
	}
	c.cert, c.checked = &cert, now()
	return c, nil
}

func (c *certReloader) stamps() [2]fileStamp {
	return [2]fileStamp{stampOf(c.certFile), stampOf(c.keyFile)}
}

// GetCertificate is tls.Config.GetCertificate.
func (c *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checked) >= certCheckInterval || now.Before(c.checked) {
		c.checked = now
		c.reloadIfChanged()
	}
	return c.cert, nil
}

func (c *certReloader) reloadIfChanged() {
	st := c.stamps()
	changed := st != c.stamp
	if !changed && !c.failing {
		return
	}
	// While the last load failed the pair is tried at every check, not
	// only on its next change: the missing half of a renewal can arrive
	// with the same size and modification time (coarse timestamps), and
	// waiting for a change would then serve the old certificate until it
	// expires. The error is logged once per change, not every interval.
	c.stamp = st
	cert, err := config.LoadKeyPair(c.certFile, c.keyFile)
	if err != nil {
		if changed {
			c.log.Error("tls: the changed certificate or key does not load; still serving the previous certificate",
				"cert_file", c.certFile, "key_file", c.keyFile, "err", err)
		}
		c.failing = true
		return
	}
	c.cert, c.failing = &cert, false
	attrs := []any{"cert_file", c.certFile}
	if cert.Leaf != nil {
		attrs = append(attrs, "not_after", cert.Leaf.NotAfter)
	}
	c.log.Info("tls: certificate reloaded", attrs...)
}

// tlsConfig is the server's TLS configuration around the reloader.
func (c *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{GetCertificate: c.GetCertificate, MinVersion: tls.VersionTLS12}
}

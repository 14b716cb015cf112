package config

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

func (c *Config) checkRegistration(ps *Problems) {
	r := c.Registration
	for i, d := range r.CIMDAllowedDomains {
		if msg := domainProblem(d); msg != "" {
			ps.add(index("registration.cimd_allowed_domains", i), msg)
		}
	}
	for i, s := range r.PrivateUseSchemes {
		if msg := privateUseSchemeProblem(s); msg != "" {
			ps.add(index("registration.private_use_schemes", i), msg)
		}
	}
	if r.CIMDTestTrust != nil {
		c.checkCIMDTestTrust(ps)
	}
}

// domainProblem checks an entry of cimd_allowed_domains, which is compared
// with the host of a client_id URL.
func domainProblem(d string) string {
	switch {
	case d == "":
		return "must not be empty"
	case strings.Contains(d, "://"):
		return fmt.Sprintf("%q: write the host name alone, without the scheme", d)
	case strings.Contains(d, "*"):
		return fmt.Sprintf("%q: wildcards are not supported; list each host name", d)
	case strings.ContainsAny(d, ":/"):
		return fmt.Sprintf("%q: write the host name alone, without a port or path", d)
	case strings.ToLower(d) != d:
		return fmt.Sprintf("%q must be lower case", d)
	case !hostnameRE.MatchString(d):
		return fmt.Sprintf("%q is not a host name", d)
	}
	return ""
}

// checkCIMDTestTrust: SPEC AS-7. The option trusts a private CA and lets
// CIMD fetches reach one loopback address, which the SSRF defences refuse
// otherwise. A gateway whose public_url is loopback serves only its own
// machine, so it can never be how a production gateway is turned against
// its own network.
func (c *Config) checkCIMDTestTrust(ps *Problems) {
	const at = "registration.cimd_test_trust"
	t := c.Registration.CIMDTestTrust
	if u, err := url.Parse(c.PublicURL); err != nil || !isLoopbackHost(u.Hostname()) {
		ps.add(at, "for end-to-end tests only: refused unless public_url's host is loopback")
	}
	if !c.Registration.CIMDEnabled() {
		ps.add(at, "only used when registration.cimd is true")
	}
	if t.CAFile == "" {
		ps.add(field(at, "ca_file"), "required (PEM CA certificates trusted for CIMD fetches)")
	}
	if msg := trustHostProblem(t.Host); msg != "" {
		ps.add(field(at, "host"), msg)
	}
}

// trustHostProblem: an IP literal, not a name, so that DNS cannot move the
// exception to another address.
func trustHostProblem(s string) string {
	if s == "" {
		return "required (a loopback IP and port, such as 127.0.0.1:9443)"
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "must be a loopback IP and port, such as 127.0.0.1:9443"
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() || ip.Zone() != "" {
		return fmt.Sprintf("%q is not a loopback IP address (a name is not accepted)", host)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "port must be a number from 1 to 65535"
	}
	return ""
}

// CertPool loads CAFile (already absolute after Parse) into a pool.
func (t CIMDTestTrust) CertPool() (*x509.CertPool, error) {
	data, err := readPEMFile(t.CAFile)
	if err != nil {
		return nil, err
	}
	return parseCertPool(t.CAFile, data)
}

// parseCertPool requires every PEM block to be a certificate, so a key
// file given by mistake is refused instead of silently trusting nothing.
// Errors name the block type, never its contents.
func parseCertPool(name string, data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%q holds a %s block; want only CERTIFICATE blocks", name, b.Type)
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%q: certificate %d does not parse: %s", name, n+1, strings.TrimPrefix(err.Error(), "x509: "))
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, errors.New(strconv.Quote(name) + " holds no PEM certificates")
	}
	return pool, nil
}

// loadCIMDTrust makes ca_file absolute, like the other files the server
// opens, and checks it loads now, so config check reports a bad file.
func (p *parser) loadCIMDTrust(t *CIMDTestTrust) {
	const at = "registration.cimd_test_trust.ca_file"
	if t == nil || t.CAFile == "" || p.failed[at] {
		return // Validate reports a missing file; expand an unset reference
	}
	t.CAFile = absPath(p.baseDir, t.CAFile)
	if _, err := t.CertPool(); err != nil {
		p.problems.add(at, "cannot load CA certificates: "+err.Error())
	}
}

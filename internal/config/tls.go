package config

import (
	"crypto/tls"
	"errors"
	"strings"
)

// LoadKeyPair loads the certificate and key as Parse checks them: bounded
// reads (maxPEMFile) and errors that name the files and crypto/tls's
// reason, never key material. The server uses it to load and reload
// tls.cert_file and tls.key_file.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := readPEMFile(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := readPEMFile(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, errors.New(strings.TrimPrefix(err.Error(), "tls: "))
	}
	return cert, nil
}

package app

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloader serves the certificate of a pair of PEM files and reads them
// again when either changes (another inode, size or modification time), so
// that a renewed certificate is served from the next handshake on, without
// a restart. A pair that does not load (a renewal caught half-way: a new
// certificate beside the old key) is logged once and the certificate
// before it kept, until the files change again.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu     sync.Mutex
	cert   *tls.Certificate
	loaded [2]os.FileInfo // of the files cert was read from
	failed [2]os.FileInfo // of the files that last failed to load
}

// newCertReloader loads the pair once; an error names the files.
func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	st, err := r.stat()
	if err != nil {
		return nil, err
	}
	cert, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cert, r.loaded = cert, st
	return r, nil
}

// GetCertificate is the tls.Config hook: the current certificate, read
// again first when its files changed. Two stats per handshake are small
// beside the handshake itself.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	st, err := r.stat()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || same(st, r.loaded) || same(st, r.failed) {
		// A file that cannot be read just now (being replaced) keeps the
		// certificate being served.
		return r.cert, nil
	}
	cert, err := r.load()
	if err != nil {
		r.failed = st
		r.log.Warn("TLS certificate files changed but do not load; serving the previous certificate until they change again",
			"cert", r.certFile, "key", r.keyFile, "error", err.Error())
		return r.cert, nil
	}
	r.cert, r.loaded, r.failed = cert, st, [2]os.FileInfo{}
	r.log.Info("TLS certificate reloaded", "cert", r.certFile, "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	return r.cert, nil
}

func (r *certReloader) stat() ([2]os.FileInfo, error) {
	var st [2]os.FileInfo
	for i, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return st, fmt.Errorf("TLS: %w", err)
		}
		st[i] = fi
	}
	return st, nil
}

// load reads the pair. The error names the files but never holds their
// content.
func (r *certReloader) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("TLS certificate %s: %w", r.certFile, err)
		}
	}
	return &cert, nil
}

// same reports whether both files are as they were.
func same(now, then [2]os.FileInfo) bool {
	for i := range now {
		a, b := now[i], then[i]
		if b == nil || !os.SameFile(a, b) || a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime()) {
			return false
		}
	}
	return true
}

// tlsConfig is the server's TLS configuration: Go's defaults (cipher
// suites, curves, HTTP/2), TLS 1.2 at least, the certificate from r.
func tlsConfig(r *certReloader) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}

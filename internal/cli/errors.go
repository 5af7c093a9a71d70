package cli

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"golang.org/x/oauth2"

	"github.com/keyhub/keyhub/client"
)

// explain renders err for the one line the CLI prints, in the CLI's own
// terms: flags and environment variables, not HTTP headers, and what to do
// when the server cannot be reached.
func (e *env) explain(err error) string {
	var (
		ce   *client.Error
		re   *oauth2.RetrieveError
		dns  *net.DNSError
		op   *net.OpError
		cert *tls.CertificateVerificationError
		ua   x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
	)
	reach := fmt.Sprintf("is `keyhub serve` running at %s? (--url, KEYHUB_URL)", e.url)
	switch {
	case errors.As(err, &ce):
		return e.explainAnswer(ce)
	case errors.As(err, &re):
		what := re.ErrorCode
		if re.ErrorDescription != "" {
			what += ": " + re.ErrorDescription
		}
		if what == "" {
			what = fmt.Sprintf("status %d", re.Response.StatusCode)
		}
		return fmt.Sprintf("%s%s refused the OAuth client from %s: %s", strings.TrimRight(e.url, "/"), client.TokenPath, e.cred.source, oneLine(what))
	case errors.As(err, &cert), errors.As(err, &ua), errors.As(err, &host), errors.As(err, &inv):
		return fmt.Sprintf("cannot trust the certificate of %s (%s): for a private CA, set SSL_CERT_FILE=ca.pem", e.url, certReason(err))
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Sprintf("%s answers plain HTTP, not HTTPS: use http:// in --url or KEYHUB_URL", e.url)
	case errors.As(err, &dns):
		return fmt.Sprintf("cannot reach %s: no such host %s; %s", e.url, dns.Name, reach)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("cannot reach %s: connection refused; %s", e.url, reach)
	case errors.As(err, &op) && op.Timeout():
		return fmt.Sprintf("cannot reach %s: timed out; %s", e.url, reach)
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Sprintf("cannot reach %s: %v; %s", e.url, op.Err, reach)
	}
	return oneLine(err.Error())
}

// explainAnswer renders an error answer of the server.
func (e *env) explainAnswer(ce *client.Error) string {
	switch ce.Code {
	case "tenant_required":
		return "this command acts on one tenant: give --tenant or set KEYHUB_TENANT (operator credentials name the tenant; a tenant's own credential needs neither)"
	case "invalid_tenant":
		return fmt.Sprintf("--tenant (KEYHUB_TENANT) %q is not a tenant id: tenant ids look like ten_01J…", e.tenant)
	}
	msg := ce.Error()
	if ce.Status == 401 && e.cred.source != "" {
		msg += " (the credential from " + e.cred.source + ")"
	}
	return msg
}

// certReason is the certificate error without the URL around it.
func certReason(err error) string {
	var (
		ua   x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &ua):
		return "signed by an unknown authority"
	case errors.As(err, &host):
		return oneLine(host.Error())
	case errors.As(err, &inv):
		return oneLine(inv.Error())
	}
	return "not valid"
}

// oneLine folds whitespace runs, newlines included, into single spaces.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

package app

import (
	"fmt"
	"log/slog"
	"net/url"

	"github.com/keyhub/keyhub/internal/mail"
	"github.com/keyhub/keyhub/internal/portal"
)

// newPortal puts the portal together over the node's services, with the
// mailer its configuration names.
func newPortal(cfg Config, core *Core, issuer string, log *slog.Logger) (*portal.Portal, error) {
	sender, err := newMailer(cfg, issuer)
	if err != nil {
		return nil, err
	}
	if sender == nil {
		log.Info("portal: no --smtp-url or --mail-dir: members sign in by hand-off or with a management key, not by email")
	}
	return portal.New(portal.DepsOf(core.Manage, core.Auth, sender, issuer, log)), nil
}

// newMailer is the sender of the portal's sign-in links: SMTP, a folder,
// or none.
func newMailer(cfg Config, issuer string) (mail.Sender, error) {
	from := cfg.MailFrom
	if from == "" {
		host := "localhost"
		if u, err := url.Parse(issuer); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		from = "keyhub <keyhub@" + host + ">"
	}
	switch {
	case cfg.SMTPURL != "":
		s, err := mail.NewSMTP(cfg.SMTPURL, from, cfg.SMTPTLS)
		if err != nil {
			return nil, fmt.Errorf("--smtp-url: %w", err)
		}
		return s, nil
	case cfg.MailDir != "":
		d, err := mail.NewDir(cfg.MailDir, from)
		if err != nil {
			return nil, fmt.Errorf("--mail-dir: %w", err)
		}
		return d, nil
	}
	return nil, nil
}

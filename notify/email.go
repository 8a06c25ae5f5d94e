package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wneessen/go-mail"
)

// TLSMode is how an e-mail's connection is protected.
type TLSMode int

const (
	StartTLS TLSMode = iota // required: a server without STARTTLS is refused
	NoTLS                   // clear text: a loopback host only (a local relay, a test)
)

// MaxAttachment is the largest report attached to an e-mail; a larger one is named
// in the body only.
const MaxAttachment = 10 << 20

// EmailTimeout bounds an e-mail's connection, each of its commands included.
const EmailTimeout = 30 * time.Second

// EmailOptions configure an e-mail receiver.
type EmailOptions struct {
	Host     string
	Port     int
	From     string
	To       []string
	Username string // "": no authentication
	Password string // never written out
	TLS      TLSMode
	// RootCAs are the authorities the server's certificate is checked against; nil:
	// the system's. Tests give their own.
	RootCAs *x509.CertPool
}

// Email sends the summary as a plain text e-mail, the report attached.
type Email struct{ o EmailOptions }

// NewEmail checks the options.
func NewEmail(o EmailOptions) (*Email, error) {
	switch {
	case o.Host == "":
		return nil, errors.New("no SMTP host")
	case len(o.To) == 0:
		return nil, errors.New("no address to send to")
	case o.TLS == NoTLS && !IsLoopback(o.Host):
		return nil, errors.New("an e-mail without TLS may go to a loopback host only")
	}
	if o.Port == 0 {
		o.Port = 587
	}
	return &Email{o: o}, nil
}

func (e *Email) Kind() string { return "email" }
func (e *Email) Host() string { return e.o.Host }

// Send mails s to every address, with the report attached when it is there and not
// larger than MaxAttachment.
func (e *Email) Send(ctx context.Context, s Summary) error {
	m := mail.NewMsg()
	if err := m.From(e.o.From); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := m.To(e.o.To...); err != nil {
		return fmt.Errorf("to: %w", err)
	}
	m.Subject(s.Title())
	m.SetDate()
	body := s.Text()
	if s.Report != "" {
		switch fi, err := os.Stat(s.Report); {
		case err != nil:
			body += "\nThe report is not attached: it could not be read.\n"
		case !fi.Mode().IsRegular() || fi.Size() > MaxAttachment:
			body += fmt.Sprintf("\nThe report is not attached: it is larger than %d MB; find it on %s.\n", MaxAttachment>>20, s.Host)
		default:
			m.AttachFile(s.Report, mail.WithFileName(filepath.Base(s.Report)),
				mail.WithFileContentType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
		}
	}
	m.SetBodyString(mail.TypeTextPlain, body)

	opts := []mail.Option{mail.WithPort(e.o.Port), mail.WithTimeout(EmailTimeout)}
	if e.o.TLS == NoTLS {
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory),
			mail.WithTLSConfig(&tls.Config{ServerName: e.o.Host, RootCAs: e.o.RootCAs, MinVersion: tls.VersionTLS12}))
	}
	if e.o.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(e.o.Username), mail.WithPassword(e.o.Password))
	}
	c, err := mail.NewClient(e.o.Host, opts...)
	if err != nil {
		return scrub(err, e.o.Password)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return scrub(err, e.o.Password)
	}
	return nil
}

package event

import (
	"fmt"
	"net/url"
	"strings"
)

// Redacted replaces a secret in exports.
const Redacted = "(redacted)"

// secretSettings are the operator settings whose values never leave the
// device: passwords, and the client certificate (it may embed a private key).
var secretSettings = map[string]bool{
	"password":                    true,
	"connection-request-password": true,
}

// IsSecretSetting reports whether a setting's value must be redacted.
func IsSecretSetting(name string) bool { return secretSettings[name] }

func redactSettings(in []Setting) []Setting {
	out := make([]Setting, len(in))
	for i, s := range in {
		if secretSettings[s.Name] && s.Value != "" {
			s.Value = Redacted
		}
		out[i] = s
	}
	return out
}

func redactValues(in []ParamValue) []ParamValue {
	out := make([]ParamValue, len(in))
	for i, v := range in {
		if v.Hidden && v.Value != "" {
			v.Value = Redacted
		}
		out[i] = v
	}
	return out
}

// Redact returns e with every secret replaced by Redacted. e itself is not
// modified.
func Redact(e Event) Event {
	switch v := e.(type) {
	case SettingsChanged:
		v.Changes = redactSettings(v.Changes)
		return v
	case SettingsReset:
		v.Defaults = redactSettings(v.Defaults)
		return v
	case FactoryResetDone:
		v.Defaults = redactSettings(v.Defaults)
		return v
	case ParametersSet:
		v.Values = redactValues(v.Values)
		return v
	case ValueChanged:
		v.Changes = redactValues(v.Changes)
		return v
	case ChangeApplying:
		v.Values = redactValues(v.Values)
		return v
	case TransferQueued:
		if v.Password != "" {
			v.Password = Redacted
		}
		v.URL = RedactURL(v.URL)
		return v
	case TransferProgress:
		v.URL = RedactURL(v.URL)
		return v
	case TransferFetched:
		v.URL = RedactURL(v.URL)
		return v
	}
	return e
}

// RedactURL replaces what may be a credential in a file server's URL with
// Redacted: the password of its user-info ("https://user:secret@host/..."),
// which net/http sends as Basic credentials, and its query, where signed
// URLs carry their tokens ("?X-Amz-Signature=..."). The scheme, user name,
// host and path stay: they are what a post-mortem needs. A URL that does
// not parse but could hold either is withheld whole.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if strings.ContainsAny(s, "@?") {
			return Redacted
		}
		return s
	}
	changed := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Redacted)
			changed = true
		}
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = Redacted, false
		changed = true
	}
	if !changed {
		return s
	}
	return u.String()
}

// RedactPayload redacts a raw journal payload. A payload that cannot be
// decoded cannot be shown to be secret-free, so it is withheld entirely.
func RedactPayload(typ uint16, payload []byte) ([]byte, error) {
	e, err := Decode(typ, payload)
	if err != nil {
		return []byte(`{"withheld":"undecodable payload"}`), fmt.Errorf("event: redact: %w", err)
	}
	if u, ok := e.(Unknown); ok {
		// A newer build's event: we cannot know its secret fields.
		_ = u
		return []byte(`{"withheld":"unknown event type"}`), nil
	}
	_, b, err := Encode(Redact(e))
	return b, err
}

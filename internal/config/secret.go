package config

import "log/slog"

// Secret is a configuration value that must never be printed: tokens,
// passwords, signing keys. Every way of formatting it says [redacted];
// Reveal is the one way to read it.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself, for the one place that uses it.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer (%#v).
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps secrets out of JSON and YAML dumps of the config.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

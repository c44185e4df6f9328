package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

// Credential binds the SHA-256 digest of a bearer token to the identity it
// authenticates. Only digests are kept, so a heap dump or a config printed
// by mistake never shows a usable token.
type Credential struct {
	Digest   [sha256.Size]byte
	Identity jobs.Identity
}

// HashToken returns the digest under which a token is stored.
func HashToken(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// Keyring maps bearer tokens to identities. Lookups compare digests in
// constant time and always visit every credential, so timing reveals
// neither a token nor which identity it belongs to.
type Keyring struct {
	creds []Credential
}

// NewKeyring returns a keyring of the given credentials.
func NewKeyring(creds []Credential) *Keyring {
	return &Keyring{creds: append([]Credential(nil), creds...)}
}

// Lookup returns the identity a token authenticates.
func (k *Keyring) Lookup(token string) (jobs.Identity, bool) {
	if k == nil || token == "" {
		return jobs.Identity{}, false
	}
	d := HashToken(token)
	var found jobs.Identity
	ok := 0
	for i := range k.creds {
		if subtle.ConstantTimeCompare(d[:], k.creds[i].Digest[:]) == 1 {
			found, ok = k.creds[i].Identity, 1
		}
	}
	return found, ok == 1
}

// Len returns the number of credentials.
func (k *Keyring) Len() int {
	if k == nil {
		return 0
	}
	return len(k.creds)
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(h string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

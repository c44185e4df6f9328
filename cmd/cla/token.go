package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/cla-ops/cla/internal/config"
	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

func hashToken(token string) []byte {
	d := sha256.Sum256([]byte(token))
	return d[:]
}

// bootstrapName is the identity of the token serve creates when the
// configuration gives none.
const bootstrapName = "admin"

// credentials turns configured identities into API credentials. When no
// identity has a token, it creates (once) or reuses an admin token in
// cla.token next to the database, so a fresh install is usable and never
// open; the CLI on the same machine finds that file by itself.
//
// With a shared store (PostgreSQL, several replicas) there is no such file:
// at least one identity must have a token.
func credentials(c *config.Config, pointer string, shared bool, log *slog.Logger) ([]web.Credential, []jobs.Identity, error) {
	var creds []web.Credential
	var ids []jobs.Identity
	for _, ic := range c.Identities {
		id := jobs.Identity{Name: ic.Name, Email: ic.Email, Slack: ic.Slack, Groups: ic.Groups, Admin: ic.Admin,
			ResolveUnassigned: ic.ResolveUnassigned}
		ids = append(ids, id)
		d, err := ic.Digest()
		if err != nil {
			return nil, nil, err
		}
		if d == "" {
			continue
		}
		var cred web.Credential
		raw, _ := hex.DecodeString(d)
		copy(cred.Digest[:], raw)
		cred.Identity = id
		creds = append(creds, cred)
	}
	if len(creds) > 0 {
		return creds, ids, nil
	}
	if shared {
		return nil, nil, errors.New("with a PostgreSQL store, give at least one identity a token (identities[].tokenFile, token or sha256): replicas cannot share a generated admin token file")
	}
	path := tokenPath(c.DB)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	token, created, err := secretFile(path, "admin token")
	if err != nil {
		return nil, nil, err
	}
	verb := "using the admin token in"
	if created {
		verb = "created an admin token in"
	}
	log.Info(verb+" "+path+"; the cla CLI on this machine finds it there, others need it as CLA_TOKEN",
		"identity", bootstrapName, "path", path)
	if err := rememberTokenPath(pointer, path); err != nil {
		log.Warn("cannot record where the admin token is for the CLI; it still finds it next to --db", "err", err)
	}
	admin := adminIdentity(ids)
	return []web.Credential{{Digest: web.HashToken(token), Identity: admin}}, ids, nil
}

// adminIdentity is the configured identity named admin (made an admin), or
// a new one.
func adminIdentity(ids []jobs.Identity) jobs.Identity {
	for _, id := range ids {
		if id.Name == bootstrapName {
			id.Admin = true
			return id
		}
	}
	return jobs.Identity{Name: bootstrapName, Admin: true}
}

// secretFile reads a random secret kept in a file (the admin token, the
// web session key), or creates it with mode 0600 if it does not exist.
// Creation is exclusive, so two servers never write two secrets.
func secretFile(path, what string) (secret string, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		secret = strings.TrimSpace(string(data))
		if secret == "" {
			return "", false, fmt.Errorf("%s file %s is empty; delete it to have a new one created", what, path)
		}
		return secret, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read %s: %w", what, err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", false, fmt.Errorf("generate %s: %w", what, err)
	}
	secret = "cla_" + base64.RawURLEncoding.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("create %s file: %w", what, err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return "", false, fmt.Errorf("write %s file: %w", what, err)
	}
	if err := f.Close(); err != nil {
		return "", false, fmt.Errorf("write %s file: %w", what, err)
	}
	return secret, true, nil
}

// tokenPointer is the file in the user's config directory where serve
// records the path of the admin token it made, so the CLI finds the token
// from any directory of the same user.
func tokenPointer(getenv func(string) string) string {
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "cla", "token-path")
}

// rememberTokenPath writes the token's path (not the token) to the
// pointer file p ("" records nothing).
func rememberTokenPath(p, path string) error {
	if p == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("make %s: %w", filepath.Dir(p), err)
	}
	if err := os.WriteFile(p, []byte(path+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// rememberedTokenPath is the token path serve last recorded, or "".
func rememberedTokenPath(getenv func(string) string) string {
	p := tokenPointer(getenv)
	if p == "" {
		return ""
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

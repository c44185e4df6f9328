package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadYAML feeds arbitrary config files (with ${ENV} references) to the
// loader: it never panics, and no placeholder survives into a value.
func FuzzLoadYAML(f *testing.F) {
	for _, s := range []string{"db: x.db\n", "identities: [{name: a, token: ${T}}]\n",
		"notify:\n  email: {host: h, port: ${P}, password: ${T}}\n", "addr: \"${T}:${P}\"\n", "${T}: 1\n", "- ${T\n"} {
		f.Add(s, "v: 1, {x}")
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text, value string) {
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		lookup := func(k string) (string, bool) {
			if k == "P" {
				return "25", true
			}
			return value, k == "T"
		}
		var c Config
		if err := loadYAML(&c, path, lookup); err != nil {
			return
		}
		all := c.DB + c.Addr + c.PublicURL + c.Notify.Email.Password.Reveal()
		for _, id := range c.Identities {
			all += id.Name + id.Token.Reveal()
		}
		if strings.Contains(all, "__cla_env_") && !strings.Contains(text+value, "__cla_env_") {
			t.Fatalf("placeholder leaked: %q", all)
		}
	})
}

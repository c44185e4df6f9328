// Package kubernetes holds cla's deployment manifests; its test validates
// them against a vendored subset of the Kubernetes schemas and checks the
// properties the README promises (replicas, probes, secrets, non-root).
package kubernetes_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("schema", "k8s-subset.json"))
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("k8s-subset.json", doc))
	s, err := c.Compile("k8s-subset.json")
	require.NoError(t, err)
	return s
}

// load decodes every YAML document of a file into JSON values.
func load(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []map[string]any
	for {
		var v map[string]any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		if v == nil {
			continue
		}
		js, err := json.Marshal(v)
		require.NoError(t, err)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
		require.NoError(t, err)
		out = append(out, inst.(map[string]any))
	}
}

func byKind(docs []map[string]any, kind string) []map[string]any {
	var out []map[string]any
	for _, d := range docs {
		if d["kind"] == kind {
			out = append(out, d)
		}
	}
	return out
}

// get walks a path of map keys and array indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func num(v any) float64 {
	switch n := v.(type) {
	case json.Number:
		f, _ := n.Float64()
		return f
	case float64:
		return n
	}
	return -1
}

func TestManifests(t *testing.T) {
	schema := compile(t)
	tests := []struct {
		file     string
		workload string
		replicas float64
		storeEnv string
	}{
		{"single/cla.yaml", "StatefulSet", 1, "CLA_DB"},
		{"ha/cla.yaml", "Deployment", 3, "CLA_STORE"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			require.NoError(t, err)
			docs := load(t, data)
			require.NotEmpty(t, docs)
			for _, d := range docs {
				require.NoError(t, schema.Validate(d), "%s %s", d["kind"], get(d, "metadata", "name"))
			}
			ws := byKind(docs, tt.workload)
			require.Len(t, ws, 1)
			w := ws[0]
			require.Equal(t, tt.replicas, num(get(w, "spec", "replicas")))
			labels := get(w, "spec", "selector", "matchLabels")
			require.Equal(t, labels, get(w, "spec", "template", "metadata", "labels"), "the selector matches the pods")
			pod := get(w, "spec", "template", "spec")
			require.Equal(t, true, get(pod, "securityContext", "runAsNonRoot"))
			c := get(pod, "containers", 0)
			require.Equal(t, true, get(c, "securityContext", "readOnlyRootFilesystem"))
			require.Equal(t, false, get(c, "securityContext", "allowPrivilegeEscalation"))
			require.Equal(t, "/healthz", get(c, "readinessProbe", "httpGet", "path"))
			env := map[string]any{}
			for _, e := range get(c, "env").([]any) {
				env[get(e, "name").(string)] = e
				if v, ok := get(e, "value").(string); ok {
					for _, bad := range []string{"xoxb-", "xapp-", "postgres://"} {
						require.NotContains(t, v, bad, "secrets come from Secret references, never literal values")
					}
				}
			}
			for _, name := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"} {
				require.NotNil(t, get(env[name], "valueFrom", "secretKeyRef", "name"), "%s from a Secret", name)
			}
			require.Contains(t, env, tt.storeEnv)
			switch tt.workload {
			case "StatefulSet":
				require.Equal(t, "ReadWriteOnce", get(w, "spec", "volumeClaimTemplates", 0, "spec", "accessModes", 0), "one node mounts the bbolt volume")
				require.Empty(t, byKind(docs, "Deployment"), "bbolt never runs as a Deployment")
			case "Deployment":
				require.NotNil(t, get(env["CLA_STORE"], "valueFrom", "secretKeyRef", "name"), "the database URL (with its password) from a Secret")
				pdbs := byKind(docs, "PodDisruptionBudget")
				require.Len(t, pdbs, 1)
				require.Equal(t, labels, get(pdbs[0], "spec", "selector", "matchLabels"), "the budget covers the replicas")
				require.Equal(t, 2.0, num(get(pdbs[0], "spec", "minAvailable")))
			}
		})
	}
}

// TestSchema_RefusesMistakes: the validator is strict enough to fail.
func TestSchema_RefusesMistakes(t *testing.T) {
	schema := compile(t)
	data, err := os.ReadFile("ha/cla.yaml")
	require.NoError(t, err)
	for _, tc := range []struct{ name, from, to string }{
		{"misspelt field", "  replicas: 3", "  replica: 3"},
		{"wrong type", "  replicas: 3", "  replicas: three"},
		{"unknown kind", "kind: PodDisruptionBudget", "kind: PodDisruptionBudgets"},
		{"probe path", "path: /healthz", "path: healthz"},
		{"env name", "- name: CLA_STORE", "- name: CLA-STORE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(data), tc.from, tc.to, 1)
			require.NotEqual(t, string(data), bad)
			failed := false
			for _, d := range load(t, []byte(bad)) {
				if schema.Validate(d) != nil {
					failed = true
				}
			}
			require.True(t, failed, "the schema accepted %q", tc.to)
		})
	}
}

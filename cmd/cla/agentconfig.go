package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cla-ops/cla/jobs"
)

// agentConfig is a ctrlplane manual-action config read from a file, and,
// when the file was the RFC's `type: Deployment` CLI document, that
// deployment's slug and name.
type agentConfig struct {
	cfg        jobs.GateConfig
	deployment map[string]any
}

// loadAgentConfig reads ctrlplane's manual-action agent config in JSON or
// YAML: bare (`type: manual-action`, name, description, …) or as the
// jobAgentConfig of the RFC's `type: Deployment` document. A file of
// several YAML documents (the RFC's multi-step example) must hold exactly
// one manual-action Deployment.
func loadAgentConfig(path string) (agentConfig, error) {
	var out agentConfig
	data, err := os.ReadFile(path)
	if err != nil {
		return out, fmt.Errorf("read agent config: %w", err)
	}
	if len(data) > maxGateFile {
		return out, fmt.Errorf("agent config %s is larger than %d bytes", path, maxGateFile)
	}
	docs, err := yamlDocs(data)
	if err != nil {
		return out, fmt.Errorf("agent config %s: %w", path, err)
	}
	doc, err := pickDeployment(docs)
	if err != nil {
		return out, fmt.Errorf("agent config %s: %w", path, err)
	}
	raw := doc
	if doc["type"] == "Deployment" {
		raw, _ = doc["jobAgentConfig"].(map[string]any)
		out.deployment = map[string]any{}
		for _, k := range []string{"slug", "name"} {
			if v, ok := doc[k].(string); ok && v != "" {
				out.deployment[k] = v
			}
		}
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return out, fmt.Errorf("agent config %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out.cfg); err != nil {
		return out, fmt.Errorf("agent config %s: %s", path, strings.TrimPrefix(err.Error(), "json: "))
	}
	if out.cfg.Type == "" && out.cfg.Kind == "" {
		out.cfg.Type = "manual-action" // the Deployment's jobAgent names the agent, not the config
	}
	return out, nil
}

// yamlDocs reads every YAML document (JSON is YAML) as a mapping.
func yamlDocs(data []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not valid JSON or YAML: %w", err)
		}
		if v == nil {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("must be a mapping: the manual-action config or a `type: Deployment` document")
		}
		docs = append(docs, m)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("is empty")
	}
	return docs, nil
}

// pickDeployment returns the one document to use: the only one, or the one
// manual-action Deployment among several.
func pickDeployment(docs []map[string]any) (map[string]any, error) {
	if len(docs) == 1 {
		if docs[0]["type"] == "Deployment" {
			if _, ok := docs[0]["jobAgentConfig"].(map[string]any); !ok {
				return nil, fmt.Errorf("the Deployment has no jobAgentConfig mapping")
			}
		}
		return docs[0], nil
	}
	var found []map[string]any
	var slugs []string
	for _, d := range docs {
		ref, _ := d["jobAgent"].(map[string]any)
		refName, _ := ref["ref"].(string)
		cfg, _ := d["jobAgentConfig"].(map[string]any)
		if d["type"] == "Deployment" && cfg != nil && (strings.Contains(refName, "manual-action") || cfg["type"] == "manual-action") {
			found = append(found, d)
			slug, _ := d["slug"].(string)
			slugs = append(slugs, slug)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("holds %d documents and %d manual-action Deployments %v; give a file with exactly one", len(docs), len(found), slugs)
	}
	return found[0], nil
}

// fillDeployment puts the Deployment document's slug and name into the
// dispatch context's deployment, where the context does not say them.
func fillDeployment(ctx map[string]any, dep map[string]any) map[string]any {
	if len(dep) == 0 {
		return ctx
	}
	if ctx == nil {
		ctx = map[string]any{}
	}
	d, ok := ctx["deployment"].(map[string]any)
	if !ok {
		if _, exists := ctx["deployment"]; exists {
			return ctx // not a mapping: the caller's context stands as it is
		}
		d = map[string]any{}
		ctx["deployment"] = d
	}
	for k, v := range dep {
		if _, ok := d[k]; !ok {
			d[k] = v
		}
	}
	return ctx
}

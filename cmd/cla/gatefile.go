package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cla-ops/cla/jobs"
)

// maxGateFile caps a gate config file: it is a few hundred bytes in practice.
const maxGateFile = 1 << 20

// loadGateFile reads a gate config in JSON or YAML, the same shape as the
// API's POST /v1/jobs/{id}/gates body (camelCase keys). Unknown keys are
// refused, so a typo is not silently ignored.
func loadGateFile(path string) (jobs.GateConfig, error) {
	var cfg jobs.GateConfig
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read gate file: %w", err)
	}
	if len(data) > maxGateFile {
		return cfg, fmt.Errorf("gate file %s is larger than %d bytes", path, maxGateFile)
	}
	raw, err := yamlToJSON(data)
	if err != nil {
		return cfg, fmt.Errorf("gate file %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("gate file %s: %s", path, strings.TrimPrefix(err.Error(), "json: "))
	}
	return cfg, nil
}

// yamlToJSON reads YAML (JSON is YAML) into JSON, so that one set of json
// tags describes both.
func yamlToJSON(data []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("not valid JSON or YAML: %w", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("must be a mapping of gate fields (kind, name, assignees, ...)")
	}
	return json.Marshal(v)
}

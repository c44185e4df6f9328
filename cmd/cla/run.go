package main

import (
	"context"
	"os"
	"strings"

	"github.com/cla-ops/cla/internal/workflow"
)

// runWorkflow hands "cla run" to the workflow runner, which owns its flags,
// help and exit codes (0 done, 1 failed, 2 usage, 3 paused). Like every
// other client verb it finds the admin token next to the database when
// neither --token nor CLA_TOKEN is given.
func runWorkflow(ctx context.Context, e *env, args []string) int {
	if e.getenv("CLA_TOKEN") == "" {
		db := e.getenv("CLA_DB")
		if db == "" {
			db = "cla.db"
		}
		if data, err := os.ReadFile(tokenPath(db)); err == nil {
			_ = os.Setenv("CLA_TOKEN", strings.TrimSpace(string(data)))
		}
	}
	return workflow.Main(ctx, args, e.stdout, e.stderr)
}

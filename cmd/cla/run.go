package main

import (
	"context"

	"github.com/cla-ops/cla/workflow"
)

// runWorkflow hands "cla run" to the workflow runner, which owns its flags,
// help and exit codes (0 done, 1 failed, 2 usage, 3 paused).
func runWorkflow(ctx context.Context, e *env, args []string) int {
	return workflow.Main(ctx, args, e.stdout, e.stderr)
}

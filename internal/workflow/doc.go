// Package workflow is the `cla run` workflow runner: it reads a workflow
// file (JSON or YAML), runs its steps as a DAG with bounded parallelism, and
// can stop at a pause, a gate or a trap, save its state atomically and be
// resumed by a later CI job (the GitLab "manual resume job" pattern).
//
// Steps run at least once: the state records a step as "running" before it
// starts, so a step interrupted by a crash runs again on resume, while a step
// recorded as finished never runs again.
package workflow

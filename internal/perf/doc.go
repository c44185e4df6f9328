// Package perf holds the benchmarks that cross packages: each builds the
// real parts (bbolt in a temporary directory, the HTTP API on loopback,
// the outbox worker, the Slack bot against the slackemu emulator) and
// measures two set-ups side by side in one run, reporting their ratio, so
// that the figure holds on a machine shared with other work. The package
// has no code of its own; the README's "Performance" section gives the
// commands and the figures.
package perf

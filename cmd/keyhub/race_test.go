//go:build race

package main

// A race-enabled test run builds a race-enabled server, so the concurrency
// tests exercise the real binary under the race detector too.
func init() { buildFlags = append(buildFlags, "-race") }

// Package e2e holds whole-program tests: they start the real server on
// 127.0.0.1:0 over a real SQLite file or PostgreSQL database and talk to it
// over HTTP, as users do, through the shared harness internal/apitest.
package e2e

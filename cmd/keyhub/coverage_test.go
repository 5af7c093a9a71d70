package main

import (
	"strings"
	"testing"
)

// TestCLIRefusesWhatTheCredentialDoesNotCover: the CLI is one more surface
// of the coverage rule. A narrow credential may disable or revoke a wider
// key, but changing it otherwise is refused with the scope it lacks, in one
// line on stderr and exit code 1.
func TestCLIRefusesWhatTheCredentialDoesNotCover(t *testing.T) {
	t.Parallel()
	s := startServer(t, serveOpts{})
	op := s.cliEnv(s.Operator, "")
	tenant := field(t, mustRun(t, op, "tenants", "create", "acme").stdout, "id")
	env := s.cliEnv(s.Operator, tenant)
	wide := field(t, mustRun(t, env, "keys", "create", "--name", "payouts", "--scope", "payouts:write").stdout, "id")
	narrow := field(t, mustRun(t, env, "keys", "create", "--name", "ops",
		"--scope", "read:api_keys,create:api_keys,update:api_keys,delete:api_keys").stdout, "key")
	ops := s.cliEnv(narrow, "")
	for _, args := range [][]string{
		{"keys", "update", wide, "--name", "mine"},
		{"keys", "rotate", wide},
		{"keys", "create", "--name", "x", "--scope", "payouts:write"},
	} {
		r := run(t, ops, args...)
		if r.code != 1 || !strings.Contains(r.stderr, `"payouts:write"`) {
			t.Errorf("keyhub %s: want exit 1 naming payouts:write, got\n%s", strings.Join(args, " "), r)
		}
	}
	if r := mustRun(t, ops, "keys", "update", wide, "--disable"); field(t, r.stdout, "state") != "disabled" {
		t.Errorf("disabling a wider key:\n%s", r)
	}
	mustRun(t, ops, "keys", "revoke", wide)
}

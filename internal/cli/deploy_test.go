package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The deployment files (deploy/) start keyhub with flags and variables of
// serve's option table; these tests keep them in step with it, since no
// systemd or container engine runs in the tests. .ci/deploy builds the
// binary as the Dockerfile does and has systemd-analyze check the unit.

// serveNames returns serve's flags (with dashes) and variables.
func serveNames() (flags, vars map[string]bool) {
	flags, vars = map[string]bool{"--help": true}, map[string]bool{}
	o := newServerOptions(true)
	for _, opt := range o.set.Options() {
		if f := opt.Flag(); f != "" {
			flags["--"+f] = true
		}
		vars[opt.Env] = true
		if fe := opt.FileEnv(); fe != "" {
			vars[fe] = true
		}
	}
	return flags, vars
}

func readDeploy(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// keyhubVars are the KEYHUB_ variables a text names.
var keyhubVars = regexp.MustCompile(`\bKEYHUB_[A-Z_]+\b`)

// clientVars are the variables of the client commands, which a deployment
// file may mention for the operator's shell.
var clientVars = map[string]bool{"KEYHUB_API_KEY": true, "KEYHUB_URL": true, "KEYHUB_TENANT": true}

func TestSystemdUnit(t *testing.T) {
	unit := readDeploy(t, "keyhub.service")
	flags, vars := serveNames()
	var exec string
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			exec = v
		}
	}
	fields := strings.Fields(exec)
	if len(fields) < 2 || fields[1] != "serve" {
		t.Fatalf("ExecStart=%q does not run keyhub serve", exec)
	}
	for _, f := range fields[2:] {
		if strings.HasPrefix(f, "--") && !flags[strings.SplitN(f, "=", 2)[0]] {
			t.Errorf("ExecStart uses %s, which keyhub serve does not have", f)
		}
	}
	for _, v := range keyhubVars.FindAllString(unit, -1) {
		if !vars[v] && !clientVars[v] {
			t.Errorf("the unit names %s, which keyhub serve does not read", v)
		}
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=keyhub", "NoNewPrivileges=yes",
		"CapabilityBoundingSet=\n", "PrivateTmp=yes", "ProtectHome=yes", "SystemCallFilter=@system-service"} {
		if !strings.Contains(unit, "\n"+want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
	// The database is in the state directory, where the master key is made.
	if !strings.Contains(exec, "--db sqlite:%S/keyhub/") {
		t.Errorf("ExecStart=%q keeps the database outside StateDirectory", exec)
	}
}

func TestDockerfile(t *testing.T) {
	df := readDeploy(t, "Dockerfile")
	_, vars := serveNames()
	for _, v := range keyhubVars.FindAllString(df, -1) {
		if !vars[v] && !clientVars[v] {
			t.Errorf("the Dockerfile names %s, which keyhub serve does not read", v)
		}
	}
	for _, want := range []string{"CGO_ENABLED=0 go build", "FROM gcr.io/distroless/static", "USER 65532",
		`ENTRYPOINT ["/usr/local/bin/keyhub"]`, `CMD ["serve"]`, "KEYHUB_DB=sqlite:/data/", "VOLUME /data",
		"-X github.com/keyhub/keyhub/internal/buildinfo.Version=", "-X github.com/keyhub/keyhub/internal/buildinfo.Commit="} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	// The Go of the build image is the go.mod's.
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if goVersion == nil || !strings.Contains(df, "FROM golang:"+string(goVersion[1])) {
		t.Errorf("the Dockerfile builds with another Go than go.mod's %s", goVersion)
	}
}

package apitest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childEnv marks the run of this test binary that TestRun starts to run
// scenarios meant to fail.
const childEnv = "APITEST_SCENARIO_CHILD"

// TestRunScenarios is run by TestRun in a child process: its scenarios
// are meant to fail, one expectation each, and only one to pass.
func TestRunScenarios(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestRun in a child process")
	}
	c := NewClient(t, echo(t).URL, "")
	c.Run(t, []Scenario{
		{Name: "Pass", Method: "POST", URL: "/pass", Body: map[string]any{"k": "v"},
			Headers: map[string]string{"Keyhub-Tenant": "ten_9"}, Status: 418,
			Contains: []string{`"uri":"/pass"`, `"tenant":"ten_9"`, `{\"k\":\"v\"}`}, NotContains: []string{"NEEDLE-0"},
			Check: func(t *testing.T, r Resp) {
				if r.Object(t)["method"] != "POST" {
					t.Error("CHECK-SAW-WRONG-METHOD")
				}
			}},
		{Name: "WrongStatus", Method: "GET", URL: "/", Status: 200,
			Check: func(t *testing.T, r Resp) { t.Error("CHECK-RAN-AFTER-WRONG-STATUS") }},
		{Name: "Lacks", Method: "GET", URL: "/", Status: 418, Contains: []string{"NEEDLE-1"}},
		{Name: "Holds", Method: "GET", URL: "/forbidden-NEEDLE-2", Status: 418, NotContains: []string{"NEEDLE-2"}},
		{Name: "CheckFails", Method: "GET", URL: "/", Status: 418, Check: func(t *testing.T, r Resp) { t.Error("CHECK-FAILED-3") }},
		{Name: "NoStatus", Method: "GET", URL: "/"},
	})
}

// TestRun runs TestRunScenarios in a child process and checks that each
// broken expectation failed its subtest, for the reason it was broken.
func TestRun(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunScenarios$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the failing scenarios passed:\n%s", out)
	}
	s := string(out)
	for _, want := range []string{
		"--- PASS: TestRunScenarios/Pass",
		"--- FAIL: TestRunScenarios/WrongStatus", "status 418, want 200",
		"--- FAIL: TestRunScenarios/Lacks", `answer lacks "NEEDLE-1"`,
		"--- FAIL: TestRunScenarios/Holds", `answer holds "NEEDLE-2"`,
		"--- FAIL: TestRunScenarios/CheckFails", "CHECK-FAILED-3",
		"--- FAIL: TestRunScenarios/NoStatus", "scenario has no expected Status",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("child output lacks %q", want)
		}
	}
	for _, never := range []string{"CHECK-SAW-WRONG-METHOD", "CHECK-RAN-AFTER-WRONG-STATUS"} {
		if strings.Contains(s, never) {
			t.Errorf("child output holds %q", never)
		}
	}
	if t.Failed() {
		t.Logf("child output:\n%s", out)
	}
}

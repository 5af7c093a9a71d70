package cli

import (
	"strings"
	"testing"
	"time"
)

var rotatedKeyJSON = strings.NewReplacer(`"id":"key_01"`, `"id":"key_03"`, `"last_used_at":null`,
	`"last_used_at":null,"ratelimit":{"limit":100,"duration":"1m0s"},"credits":{"remaining":1000,"refill":{"amount":1000,"interval":"daily"}},"rotated_from":"key_01","replaced_by":null`,
).Replace(createdKeyJSON)

func TestKeysRotate(t *testing.T) {
	runCases(t, []cliCase{
		{name: "Grace", args: []string{"keys", "rotate", "key_01", "--grace", "24h"}, status: 201, resp: rotatedKeyJSON,
			method: "POST", path: "/v1/api-keys/key_01/rotate", body: `{"grace_period":"24h"}`,
			out: []string{"id:           key_03\n", "ratelimit:    100/1m\n", "credits:      1000 (refill to 1000 daily)\n",
				"rotated from: key_01\n", "\nkey: kh_live_SECRETSECRET\n", "will not show it again"}},
		{name: "GraceDays", args: []string{"keys", "rotate", "key_01", "--grace", "7d"}, status: 201, resp: rotatedKeyJSON,
			method: "POST", path: "/v1/api-keys/key_01/rotate", body: `{"grace_period":"168h"}`},
		{name: "GraceMixed", args: []string{"keys", "rotate", "key_01", "--grace", "1h30m"}, status: 201, resp: rotatedKeyJSON,
			method: "POST", path: "/v1/api-keys/key_01/rotate", body: `{"grace_period":"1h30m"}`},
		{name: "GraceZero", args: []string{"keys", "rotate", "key_01", "--grace", "0"}, status: 201, resp: rotatedKeyJSON,
			method: "POST", path: "/v1/api-keys/key_01/rotate", body: `{"grace_period":"0s"}`},
		{name: "AtOnce", args: []string{"keys", "rotate", "key_01"}, status: 201, resp: rotatedKeyJSON,
			method: "POST", path: "/v1/api-keys/key_01/rotate", body: `{}`},
		{name: "JSON", args: []string{"keys", "rotate", "key_01", "--json"}, status: 201, resp: rotatedKeyJSON,
			method: "POST", path: "/v1/api-keys/key_01/rotate", body: `{}`,
			out: []string{`"key": "kh_live_SECRETSECRET"`, `"rotated_from": "key_01"`, `"ratelimit": {`}},
		{name: "BadGrace", args: []string{"keys", "rotate", "key_01", "--grace", "soon"}, code: 2, errOut: []string{`"--grace"`}},
		{name: "MissingID", args: []string{"keys", "rotate"}, code: 2, errOut: []string{"missing argument ID"}},
	})
}

func TestKeysUsage(t *testing.T) {
	resp := `{"data":[{"hour":"2025-06-01T10:00:00Z","counts":{"RATE_LIMITED":2,"VALID":7}},
{"hour":"2025-06-01T11:00:00Z","counts":{"NOT_FOUND":1,"VALID":12,"SOMETHING_NEW":3}}]}`
	runCases(t, []cliCase{
		{name: "Table", args: []string{"keys", "usage", "key_01"}, resp: resp, method: "GET", path: "/v1/api-keys/key_01/usage",
			exactOut: `HOUR                  VALID  NOT_FOUND  RATE_LIMITED  SOMETHING_NEW
2025-06-01T10:00:00Z  7      0          2             0
2025-06-01T11:00:00Z  12     1          0             3
`},
		{name: "Window", args: []string{"keys", "usage", "key_01", "--from", "7d", "--to", "2025-06-01T12:00:00+02:00"},
			resp: `{"data":[]}`, method: "GET", path: "/v1/api-keys/key_01/usage",
			query: "from=2025-05-25T12%3A00%3A00Z&to=2025-06-01T10%3A00%3A00Z", exactOut: "HOUR\n"},
		{name: "JSON", args: []string{"keys", "usage", "key_01", "--json"}, resp: resp, method: "GET", path: "/v1/api-keys/key_01/usage",
			out: []string{`"hour": "2025-06-01T10:00:00Z"`, `"VALID": 7`}},
		{name: "EmptyJSON", args: []string{"keys", "usage", "key_01", "--json"}, resp: `{"data":[]}`,
			method: "GET", path: "/v1/api-keys/key_01/usage", exactOut: "[]\n"},
		{name: "BadFrom", args: []string{"keys", "usage", "key_01", "--from", "last week"}, code: 2, errOut: []string{`"--from"`}},
	})
}

func TestKeysLimits(t *testing.T) {
	runCases(t, []cliCase{
		{name: "CreateLimits", args: []string{"keys", "create", "--name", "ci", "--ratelimit", "100/1m", "--credits", "1000",
			"--refill", "1000/daily"}, status: 201, resp: createdKeyJSON, method: "POST", path: "/v1/api-keys",
			body: `{"name":"ci","ratelimit":{"limit":100,"duration":"1m"},"credits":{"remaining":1000,"refill":{"amount":1000,"interval":"daily"}}}`},
		{name: "CreateBareUnit", args: []string{"keys", "create", "--name", "ci", "--ratelimit", "10/s", "--credits", "0"},
			status: 201, resp: createdKeyJSON, method: "POST", path: "/v1/api-keys",
			body: `{"name":"ci","ratelimit":{"limit":10,"duration":"1s"},"credits":{"remaining":0}}`},
		{name: "CreateDayWindow", args: []string{"keys", "create", "--name", "ci", "--ratelimit", "5000/1d", "--refill", "9/monthly",
			"--credits", "9"}, status: 201, resp: createdKeyJSON, method: "POST", path: "/v1/api-keys",
			body: `{"name":"ci","ratelimit":{"limit":5000,"duration":"24h"},"credits":{"remaining":9,"refill":{"amount":9,"interval":"monthly"}}}`},
		{name: "CreateRefillWithoutCredits", args: []string{"keys", "create", "--name", "ci", "--refill", "1000/daily"}, code: 2,
			errOut: []string{"--refill and --credits-low need --credits"}},
		{name: "CreateCreditsLow", args: []string{"keys", "create", "--name", "ci", "--credits", "1000", "--credits-low", "100"},
			status: 201, resp: createdKeyJSON, method: "POST", path: "/v1/api-keys",
			body: `{"name":"ci","credits":{"remaining":1000,"low_threshold":100}}`},
		{name: "CreateCreditsLowWithoutCredits", args: []string{"keys", "create", "--name", "ci", "--credits-low", "5"}, code: 2,
			errOut: []string{"--refill and --credits-low need --credits"}},
		{name: "UpdateCreditsLow", args: []string{"keys", "update", "key_01", "--credits-low", "50"}, resp: keyJSON,
			method: "PATCH", path: "/v1/api-keys/key_01", body: `{"credits":{"low_threshold":50}}`},
		{name: "UpdateCreditsLowNone", args: []string{"keys", "update", "key_01", "--credits-low", "none"}, resp: keyJSON,
			method: "PATCH", path: "/v1/api-keys/key_01", body: `{"credits":{"low_threshold":null}}`},
		{name: "BadRateLimit", args: []string{"keys", "create", "--name", "ci", "--ratelimit", "100"}, code: 2,
			errOut: []string{`invalid argument "100" for "--ratelimit" flag: want LIMIT/WINDOW`}},
		{name: "ZeroRateLimit", args: []string{"keys", "create", "--name", "ci", "--ratelimit", "0/1m"}, code: 2, errOut: []string{`"--ratelimit"`}},
		{name: "SubSecondWindow", args: []string{"keys", "create", "--name", "ci", "--ratelimit", "1/500ms"}, code: 2, errOut: []string{`"--ratelimit"`}},
		{name: "BadCredits", args: []string{"keys", "create", "--name", "ci", "--credits", "-1"}, code: 2, errOut: []string{`"--credits"`}},
		{name: "BadRefill", args: []string{"keys", "create", "--name", "ci", "--credits", "1", "--refill", "1000/weekly"}, code: 2,
			errOut: []string{`want AMOUNT/daily or AMOUNT/monthly`}},
		{name: "UpdateSet", args: []string{"keys", "update", "key_01", "--ratelimit", "50/1h", "--credits", "10", "--refill", "100/daily"},
			resp: keyJSON, method: "PATCH", path: "/v1/api-keys/key_01",
			body: `{"ratelimit":{"limit":50,"duration":"1h"},"credits":{"remaining":10,"refill":{"amount":100,"interval":"daily"}}}`},
		{name: "UpdateAddCredits", args: []string{"keys", "update", "key_01", "--add-credits", "500"}, resp: keyJSON,
			method: "PATCH", path: "/v1/api-keys/key_01", body: `{"credits":{"add":500}}`},
		{name: "UpdateTakeCredits", args: []string{"keys", "update", "key_01", "--add-credits=-5", "--refill", "none"}, resp: keyJSON,
			method: "PATCH", path: "/v1/api-keys/key_01", body: `{"credits":{"add":-5,"refill":null}}`},
		{name: "UpdateRemove", args: []string{"keys", "update", "key_01", "--ratelimit", "none", "--credits", "none"}, resp: keyJSON,
			method: "PATCH", path: "/v1/api-keys/key_01", body: `{"ratelimit":null,"credits":null}`},
		{name: "UpdateRemoveAndAdd", args: []string{"keys", "update", "key_01", "--credits", "none", "--add-credits", "1"}, code: 2,
			errOut: []string{"--credits none excludes --refill, --add-credits and --credits-low"}},
		{name: "CreateHasNoAddCredits", args: []string{"keys", "create", "--name", "ci", "--add-credits", "1"}, code: 2,
			errOut: []string{"unknown flag: --add-credits"}},
	})
}

func TestVerifyCostAndLimits(t *testing.T) {
	valid := `{"valid":true,"code":"VALID","key":{"id":"key_01","tenant_id":"ten_01","name":"ci","environment":"live",
"scopes":[],"role":null,"meta":{},"expires_at":null},"ratelimit":{"limit":100,"remaining":99,"reset":1748779260000},
"credits":{"remaining":995}}`
	runCases(t, []cliCase{
		{name: "Cost", args: []string{"verify", "kh_live_x", "--cost", "5"}, resp: valid, method: "POST", path: "/v1/keys/verify",
			body: `{"key":"kh_live_x","cost":5}`,
			out:  []string{"ratelimit:   99 of 100 left until 2025-06-01T12:01:00Z\n", "credits:     995 left\n"}},
		{name: "CostZero", args: []string{"verify", "kh_live_x", "--cost", "0"}, resp: valid, method: "POST", path: "/v1/keys/verify",
			body: `{"key":"kh_live_x","cost":0}`},
		{name: "NoCost", args: []string{"verify", "kh_live_x"}, resp: valid, method: "POST", path: "/v1/keys/verify",
			body: `{"key":"kh_live_x"}`},
		{name: "NegativeCost", args: []string{"verify", "kh_live_x", "--cost", "-1"}, code: 2, errOut: []string{"--cost must be 0 or more"}},
		{name: "UsageExceeded", args: []string{"verify", "kh_live_x"},
			resp:   `{"valid":false,"code":"USAGE_EXCEEDED","credits":{"remaining":0}}`,
			method: "POST", path: "/v1/keys/verify", body: `{"key":"kh_live_x"}`, code: 1,
			exactOut: "valid:   false\ncode:    USAGE_EXCEEDED\ncredits: 0 left\n"},
	})
}

func TestFormatSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "24h", 90 * time.Minute: "1h30m", time.Minute: "1m", time.Second: "1s",
		0: "0s", 36*time.Hour + 30*time.Second: "36h0m30s",
	} {
		if got := formatSpan(d); got != want {
			t.Errorf("formatSpan(%v) = %q, want %q", d, got, want)
		}
	}
}

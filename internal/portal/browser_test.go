package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's Chromium with chromedp as a person
// would: open a page, type, click, read what it shows. One browser process
// serves the package; every test gets a browser context of its own, so no
// cookie crosses from one test to another.
//
// KEYHUB_TEST_CHROMIUM names the browser and KEYHUB_TEST_AXE the axe-core
// script (axe.min.js) that every page is checked with; .ci/run sets both.
// Without them the tests skip, except under CI, where they fail.

var (
	browserCtx context.Context
	axeSource  string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if path := os.Getenv("KEYHUB_TEST_CHROMIUM"); path != "" {
		dir, err := os.MkdirTemp("", "keyhub-chromium-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		actx, cancel := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
			// A reload of a page a form rendered submits the form again
			// without asking: the harshest test of "the secret once".
			chromedp.Flag("disable-prompt-on-repost", true),
			chromedp.UserDataDir(dir), chromedp.WindowSize(1280, 900))
		defer cancel()
		bctx, bcancel := chromedp.NewContext(actx)
		defer bcancel()
		// The browser lives as long as the context of its first action: no
		// timeout here, or it would close when the timeout's context ends.
		if err := chromedp.Do(bctx); err != nil {
			fmt.Fprintln(os.Stderr, "portal tests: starting", path, "failed:", err)
			return 1
		}
		browserCtx = bctx
	}
	if path := os.Getenv("KEYHUB_TEST_AXE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "portal tests: reading axe-core:", err)
			return 1
		}
		axeSource = string(b)
	}
	return m.Run()
}

// inCI reports a CI run, where no browser test may skip.
func inCI() bool { return os.Getenv("CI") != "" }

// browser is one browser context on one keyhub.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	// dialogs counts JavaScript dialogs (alert, confirm) the pages opened.
	dialogs atomic.Int32
	// scriptsOff says the pages run without JavaScript.
	scriptsOff bool
}

// newBrowser opens a fresh browser context (its own cookies) on base.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if browserCtx == nil {
		if inCI() {
			t.Fatal("KEYHUB_TEST_CHROMIUM is not set: CI must run the browser tests")
		}
		t.Skip("KEYHUB_TEST_CHROMIUM is not set (apt-get install chromium; KEYHUB_TEST_CHROMIUM=/usr/bin/chromium)")
	}
	ctx, cancel := context.WithTimeout(browserCtx, 2*time.Minute)
	ctx, cancel2 := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(func() { cancel2(); cancel() })
	b := &browser{t: t, ctx: ctx, base: strings.TrimRight(base, "/")}
	if err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			b.dialogs.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.url())
	}
}

// open loads path and answers the document's response.
func (b *browser) open(path string) *network.Response {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("browser: open %s: %v", path, err)
	}
	return resp
}

// click clicks the element and waits for the page it loads.
func (b *browser) click(sel string) *network.Response {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("browser: click %s: %v (at %s)", sel, err, b.url())
	}
	return resp
}

// typeInto types text into a field, as a person would.
func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	if !eval[bool](b, `(function(){var e=document.querySelector(`+string(q)+`);if(!e)return false;e.value="";return true})()`) {
		b.t.Fatalf("browser: no field %s on %s", sel, b.path())
	}
	b.do(chromedp.SendKeys(chromedp.CSS(sel), text))
}

// paste puts text into a field at once, as pasting does: for keys.
func (b *browser) paste(sel, text string) {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	v, _ := json.Marshal(text)
	if !eval[bool](b, `(function(){var e=document.querySelector(`+string(q)+`);if(!e)return false;e.value=`+string(v)+
		`;e.dispatchEvent(new Event("input",{bubbles:true}));return true})()`) {
		b.t.Fatalf("browser: no field %s on %s", sel, b.path())
	}
}

// eval evaluates JavaScript in the page, awaiting a promise.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, func(p *runtime.EvaluateParams) {
		yes := true
		p.AwaitPromise = &yes
	}))
	if err != nil {
		b.t.Fatalf("browser: evaluating %.60q: %v", js, err)
	}
	return v
}

// text is the text of the first element matching sel, "" if none.
func (b *browser) text(sel string) string {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	return eval[string](b, `(function(){var e=document.querySelector(`+string(q)+`);return e?e.textContent.trim():""})()`)
}

func (b *browser) has(sel string) bool {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	return eval[bool](b, `!!document.querySelector(`+string(q)+`)`)
}

func (b *browser) url() string {
	u, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return u
}

func (b *browser) path() string { return strings.TrimPrefix(b.url(), b.base) }

// body is the page's visible text.
func (b *browser) body() string { return b.text("body") }

// noScript switches JavaScript off in this browser, to prove a flow works
// without it.
func (b *browser) noScript() {
	b.t.Helper()
	b.scripts(false)
	b.scriptsOff = true
}

func (b *browser) scripts(on bool) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	}))
}

// post submits a form from inside the page (the browser's cookies go
// with it) and answers the status, without following a redirect: a forged
// or hand-made request, as another page's script or a crafted form sends.
// A browser hides a redirect's status from the page; it answers 303.
func (b *browser) post(path string, form map[string]string) int {
	b.t.Helper()
	f, _ := json.Marshal(form)
	p, _ := json.Marshal(path)
	return eval[int](b, `fetch(`+string(p)+`, {method: "POST", redirect: "manual", body: new URLSearchParams(`+string(f)+`)}).then(r => r.type === "opaqueredirect" ? 303 : r.status)`)
}

// csrf is the CSRF token of the page's forms.
func (b *browser) csrf() string {
	b.t.Helper()
	return eval[string](b, `(document.querySelector("input[name=csrf]")||{}).value||""`)
}

// axeViolation is one serious or critical finding of axe-core.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// a11y runs axe-core on the page and fails the test on any serious or
// critical violation.
func (b *browser) a11y() {
	b.t.Helper()
	if axeSource == "" {
		if inCI() {
			b.t.Fatal("KEYHUB_TEST_AXE is not set: CI must check accessibility")
		}
		b.t.Log("KEYHUB_TEST_AXE is not set: accessibility not checked")
		return
	}
	if b.scriptsOff {
		// axe runs as a script; the page's own scripts did not run.
		b.scripts(true)
		defer b.scripts(false)
	}
	if !eval[bool](b, `typeof axe !== "undefined"`) {
		eval[chromedp.Void](b, axeSource+";undefined")
	}
	raw := eval[string](b, `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.html.slice(0, 160))}))))`)
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		b.t.Fatalf("axe: %v: %s", err, raw)
	}
	for _, v := range vs {
		b.t.Errorf("axe on %s: %s (%s): %s\n\t%s", b.path(), v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
}

// visit opens path, checks its status and its accessibility.
func (b *browser) visit(path string, status int64) {
	b.t.Helper()
	if resp := b.open(path); resp.Status != status {
		b.t.Fatalf("GET %s: status %d, want %d: %s", path, resp.Status, status, b.body())
	}
	b.a11y()
}

// get opens path and checks its status only.
func (b *browser) get(path string, status int64) {
	b.t.Helper()
	if resp := b.open(path); resp.Status != status {
		b.t.Fatalf("GET %s: status %d, want %d: %s", path, resp.Status, status, b.body())
	}
}

// wantOn fails unless the browser shows path (without query).
func (b *browser) wantOn(path string) {
	b.t.Helper()
	got := b.path()
	if i := strings.IndexAny(got, "?#"); i >= 0 {
		got = got[:i]
	}
	if got != path {
		b.t.Fatalf("browser is on %s, want %s: %.400s", b.path(), path, b.body())
	}
}

// signInWithKey signs in on the sign-in page by pasting key.
func (b *browser) signInWithKey(key string) {
	b.t.Helper()
	b.open("/portal/sign-in")
	b.paste("#key", key)
	if resp := b.click("#by-key ~ form button[type=submit]"); resp.Status != 200 {
		b.t.Fatalf("sign-in with a key: status %d: %s", resp.Status, b.body())
	}
}

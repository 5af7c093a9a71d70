package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/verify"
)

// keyLine is how serve prints the bootstrap operator key on stdout.
const keyLine = "KEYHUB_API_KEY="

// masterKeyFile is where the server creates its master key, in the run's
// temporary directory: PostgreSQL deployments must name one.
const masterKeyFile = "keyhub.master.key"

// startTimeout bounds building, starting and the first health check.
const startTimeout = 2 * time.Minute

// server is a running keyhub.
type server struct {
	mode  string // "process" or "inprocess"
	url   string // http://127.0.0.1:port
	opKey string // bootstrap operator key
	pprof bool   // whether url serves /debug/pprof/
	pid   int    // the server's process, 0 when it runs in this one
	stop  func()
}

// startServer starts keyhub on dsn, as a child process or in this process,
// and waits until it answers /healthz.
func startServer(ctx context.Context, o options, dsn, tmp string) (*server, error) {
	var s *server
	var err error
	if o.inprocess {
		s, err = startInProcess(ctx, o, dsn, tmp)
	} else {
		s, err = startProcess(ctx, o, dsn, tmp)
	}
	if err != nil {
		return nil, err
	}
	if err := waitHealthy(ctx, s.url); err != nil {
		s.stop()
		return nil, err
	}
	if !o.inprocess {
		s.pprof = probe(ctx, http.MethodGet, s.url+"/debug/pprof/") == http.StatusOK
	}
	return s, nil
}

// buildKeyhub builds ./cmd/keyhub of the module this command runs in.
func buildKeyhub(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the keyhub module: run from the repository")
	}
	bin := filepath.Join(dir, "keyhub")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/keyhub")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/keyhub: %w\n%s", err, out)
	}
	return bin, nil
}

func startProcess(ctx context.Context, o options, dsn, tmp string) (*server, error) {
	logf("building keyhub")
	bin, err := buildKeyhub(ctx, tmp)
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--addr", addr, "--db", dsn, "--log-level", "warn",
		"--master-key-file", filepath.Join(tmp, masterKeyFile), "--metrics", o.metrics, "--jwt-alg", o.jwtAlg}
	if o.cacheSize > 0 {
		args = append(args, "--cache-size", strconv.Itoa(o.cacheSize))
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	logf("started keyhub (pid %d) on %s", cmd.Process.Pid, addr)
	keyc := make(chan string, 1)
	exited := make(chan struct{})
	go func() {
		scanKeyLines(pipe, keyc)
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	select {
	case key := <-keyc:
		return &server{mode: "process", url: "http://" + addr, opKey: key, pid: cmd.Process.Pid, stop: stop}, nil
	case <-exited:
		return nil, errors.New("keyhub exited before printing its operator key")
	case <-time.After(startTimeout):
	case <-ctx.Done():
	}
	stop()
	return nil, errors.New("keyhub printed no operator key")
}

// scanKeyLines sends the operator key from the server's stdout to keyc and
// passes every other line on, never the key itself.
func scanKeyLines(r io.Reader, keyc chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if key, ok := strings.CutPrefix(line, keyLine); ok {
			keyc <- key
			continue
		}
		if line != "" && !strings.HasPrefix(line, "This operator key is shown once") {
			fmt.Fprintln(os.Stderr, "keyhub:", line)
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func startInProcess(ctx context.Context, o options, dsn, tmp string) (*server, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pr, pw := io.Pipe()
	keyc := make(chan string, 1)
	go scanKeyLines(pr, keyc)
	addrc := make(chan string, 1)
	sctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		errc <- app.Run(sctx, app.Config{
			Addr: "127.0.0.1:0", DB: dsn, Log: log, Stdout: pw,
			MasterKeyFile: filepath.Join(tmp, masterKeyFile), Metrics: o.metrics, JWTAlgorithm: o.jwtAlg,
			Cache:    verify.CacheConfig{Bytes: int64(o.cacheSize) << 20},
			OnListen: func(a string) { addrc <- a },
		})
		pw.Close()
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				logf("keyhub: %v", err)
			}
		})
	}
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		cancel()
		return nil, fmt.Errorf("keyhub: %w", err)
	}
	// The key line is written before the listener opens.
	select {
	case key := <-keyc:
		logf("keyhub running in this process on %s", addr)
		return &server{mode: "inprocess", url: "http://" + addr, opKey: key, stop: stop}, nil
	case <-time.After(10 * time.Second):
		stop()
		return nil, errors.New("keyhub printed no operator key (is the store fresh?)")
	}
}

// freeAddr returns a loopback address with a port free at the time of the call.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitHealthy(ctx context.Context, url string) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if probe(ctx, http.MethodGet, url+"/healthz") == http.StatusOK {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s/healthz did not answer 200 within %s", url, startTimeout)
}

// probe answers the status of an empty request, or 0 when there is none.
func probe(ctx context.Context, method, url string) int {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// startHello serves the baseline: the smallest useful JSON handler.
func startHello() *httptest.Server {
	body := []byte(`{"hello":"world"}` + "\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	// httptest.NewServer listens on 127.0.0.1:0 and serves with net/http's
	// default server, exactly a hello-world program.
	return httptest.NewServer(h)
}

// apiClient calls keyhub's native API with the operator key.
type apiClient struct {
	base string
	key  string
}

// call sends a JSON body and returns the answer, failing on a non-2xx status.
func (c *apiClient) call(ctx context.Context, path, tenant string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	if tenant != "" {
		req.Header.Set("Keyhub-Tenant", tenant)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("POST %s: %s: %s", path, resp.Status, bytes.TrimSpace(out))
	}
	return out, nil
}

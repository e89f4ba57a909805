package harness

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgispec/wsgispec/internal/testcert"
)

// caseDefects are brokenserver's defects that single out cases (see its docstring), each with
// the cases that must catch it.
var caseDefects = map[string][]string{
	"header-case":             {"start_response.header-names-any-case"},
	"error-before-body":       {"exc_info.error-before-body"},
	"write-past-length":       {"write.past-content-length"},
	"empty-chunk":             {"body.empty-block-mid-body"},
	"no-content-body":         {"body.no-content-statuses"},
	"iterate-past-length":     {"body.stops-at-content-length"},
	"close-skipped":           {"close.on-head", "close.on-content-length-cut", "close.on-rejected-headers"},
	"not-dumb":                {"start_response.set-cookie-kept-apart", "start_response.reason-phrase-kept", "start_response.unusual-status-kept"},
	"environ-framing":         {"environ.mutation-isolated"},
	"write-dropped":           {"write.empty-iterable"},
	"sniff":                   {"body.iterable-attributes-unused"},
	"concurrency":             {"environ.concurrency-flags-declared"},
	"callable-kind":           {"environ.callable-kinds"},
	"no-host":                 {"environ.server-name-without-host"},
	"second-call-after-raise": {"start_response.second-call-after-raise"},
}

// brokenServerModel is brokenserver's concurrency model (a thread per connection, one
// process), declared the way a user declares their own server's.
const brokenServerModel = EnvConcurrency + "=multithread=true,multiprocess=false,run_once=false"

// TestConformCatchesEachCaseDefect proves each case singled out above can fail: it passes
// against the correct brokenserver and fails with its defect switched on.
func TestConformCatchesEachCaseDefect(t *testing.T) {
	wsgispecBin(t)
	var all []string
	for _, ids := range caseDefects {
		all = append(all, ids...)
	}
	baseline := conformBrokenEnv(t, []string{brokenServerModel}, strings.Join(all, ","))
	for _, id := range all {
		if c := baseline[id]; c.Status != Pass {
			t.Errorf("the correct brokenserver: %s is %s, not pass: %s", id, c.Status, firstLine(c.Message))
		}
	}
	for defect, ids := range caseDefects {
		t.Run(defect, func(t *testing.T) {
			t.Parallel()
			got := conformBrokenEnv(t, []string{"BROKEN=" + defect, brokenServerModel}, strings.Join(ids, ","))
			for _, id := range ids {
				if c := got[id]; c.Status != Fail && c.Status != Error {
					t.Errorf("BROKEN=%s: %s is %s, not fail: %s", defect, id, c.Status, firstLine(c.Message))
				}
			}
		})
	}
}

// TestConformOverTLS runs the https cases, and cases that open several connections at once,
// against servers serving TLS themselves, through --url https://…: brokenserver correct and with
// its https defect, the gateway, gunicorn's sync workers (a worker is busy with one connection at
// a time: a client that handshook at dial time timed out on the next connection) and gevent.
func TestConformOverTLS(t *testing.T) {
	bin := wsgispecBin(t)
	cert, key := testcert.Files(t, t.TempDir())
	probe, err := filepath.Abs(filepath.Join("..", "pyapps", "probe"))
	if err != nil {
		t.Fatal(err)
	}
	const judged = "judged" // pass or fail, but neither skipped nor an error
	allPass := map[string]Status{"environ.https-on": Pass, "environ.wsgi-url-scheme": Pass,
		"environ.multithread-truthful": Pass, "environ.multiprocess-truthful": Pass}
	servers := []struct {
		name string
		argv func(port int) []string
		want map[string]Status
	}{
		{"brokenserver", func(port int) []string {
			return []string{DefaultPython, testdataDir(t, "brokenserver.py"), "127.0.0.1", fmt.Sprint(port), "probe:application"}
		}, allPass},
		{"brokenserver BROKEN=https", func(port int) []string {
			return []string{DefaultPython, testdataDir(t, "brokenserver.py"), "127.0.0.1", fmt.Sprint(port), "probe:application"}
		}, map[string]Status{"environ.https-on": Fail, "environ.wsgi-url-scheme": Fail}},
		{"gateway", func(port int) []string {
			return []string{bin, "serve", "--app-dir", probe, "--app", "probe:application", "--listen", fmt.Sprintf("127.0.0.1:%d", port),
				"--workers", "1", "--tls-cert", cert, "--tls-key", key}
		}, allPass},
		// gunicorn 20.1 and gevent 22.10 set wsgi.url_scheme but no HTTPS variable (a SHOULD):
		// that case is only required to be judged.
		{"gunicorn", func(port int) []string {
			return []string{DefaultPython, "-m", "gunicorn", "--certfile", cert, "--keyfile", key, "-b", fmt.Sprintf("127.0.0.1:%d", port),
				"-w", "2", "probe:application"}
		}, map[string]Status{"environ.https-on": judged, "environ.wsgi-url-scheme": Pass,
			"environ.multithread-truthful": Pass, "environ.multiprocess-truthful": Pass}},
		{"gevent", func(port int) []string {
			return []string{DefaultPython, "-c", fmt.Sprintf(`from gevent import monkey; monkey.patch_all()
import sys; sys.path.insert(0, ".")
from gevent.pywsgi import WSGIServer
import probe
WSGIServer(("127.0.0.1", %d), probe.application, keyfile=%q, certfile=%q).serve_forever()`, port, key, cert)}
		}, map[string]Status{"environ.https-on": judged, "environ.wsgi-url-scheme": Pass,
			"environ.multithread-truthful": Pass, "environ.multiprocess-truthful": Pass}},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			if strings.Contains(strings.Join(srv.argv(0), " "), "gunicorn") && !pythonHas(t, "gunicorn") ||
				strings.Contains(strings.Join(srv.argv(0), " "), "gevent") && !pythonHas(t, "gevent") {
				t.Skip("not installed")
			}
			probeDir := t.TempDir()
			os.Chmod(probeDir, 0o777)
			port, err := freePort("127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			argv := srv.argv(port)
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Dir = probe
			cmd.Env = append(os.Environ(), "TLS_CERT="+cert, "TLS_KEY="+key, EnvProbeDir+"="+probeDir, "PYTHONDONTWRITEBYTECODE=1")
			if i := strings.Index(srv.name, "BROKEN="); i >= 0 {
				cmd.Env = append(cmd.Env, srv.name[i:])
			}
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				cmd.Wait()
			}()
			waitListening(t, port)
			var ids []string
			for id := range srv.want {
				ids = append(ids, id)
			}
			out := filepath.Join(t.TempDir(), "c.json")
			r := runWsgispec(t, nil, "conform", "--url", fmt.Sprintf("https://127.0.0.1:%d", port), "--probe-dir", probeDir,
				"--cases", strings.Join(ids, ","), "--json", out)
			if r.code == 2 {
				t.Fatalf("setup error:\n%s", r.stderr)
			}
			cases := readConformJSON(t, out).Runs[0].Cases
			if len(cases) != len(ids) {
				t.Errorf("%d cases ran, want %d", len(cases), len(ids))
			}
			for _, c := range cases {
				want := srv.want[c.ID]
				if want == judged && (c.Status == Pass || c.Status == Fail) {
					continue
				}
				if c.Status != want {
					t.Errorf("%s: %s, want %s: %s", c.ID, c.Status, want, firstLine(c.Message))
				}
			}
		})
	}
}

// pythonHas reports whether the test's Python can import module.
func pythonHas(t *testing.T, module string) bool {
	t.Helper()
	return exec.Command(DefaultPython, "-c", "import "+module).Run() == nil
}

func waitListening(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %d after 15 s", port)
}

package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/wsgispec/wsgispec/harness"
)

// ReferenceServer is the adapter name of the bare Go server every round also measures.
const ReferenceServer = "reference"

// ReferenceCommand is the (internal) wsgispec subcommand that runs the reference server.
const ReferenceCommand = "bench-reference"

func init() {
	harness.Register(&harness.Adapter{
		Name:     ReferenceServer,
		Runs:     "bench only: bare Go net/http answering each scenario's bytes, no Python (the ceiling)",
		Purposes: harness.ForBench,
		Detect: func(ctx context.Context, env harness.Env) (string, error) {
			if _, err := os.Stat(filepath.Join(env.ToolDir, "wsgispec")); err != nil {
				return "", fmt.Errorf("no wsgispec executable in %s (make build puts one in bin/)", env.ToolDir)
			}
			return "Go " + runtime.Version(), nil
		},
		// It runs in a process of its own, not in wsgispec's, so that its CPU time is measured
		// apart from the load generator's, like every other server's.
		Command: func(l harness.Launch) (harness.Command, error) {
			return harness.Command{Argv: []string{
				filepath.Join(l.ToolDir, "wsgispec"), ReferenceCommand, "--listen", l.Addr(),
			}, Dir: l.WorkDir}, nil
		},
	})
}

// ReferenceHandler answers every scenario's request with the bytes the Python apps answer, doing
// nothing else: what a server costs when the application and the gateway cost nothing.
func ReferenceHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /hello", fixedResponse(http.StatusOK, "text/plain", helloBody))
	mux.Handle("GET /json", fixedResponse(http.StatusOK, "application/json", jsonBody))
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	mux.Handle("GET /stream", fixedResponse(http.StatusOK, "application/octet-stream", streamBody))
	mux.Handle("GET /write", fixedResponse(http.StatusOK, "application/octet-stream", writeBody))
	mux.Handle("GET /posts/1", fixedResponse(http.StatusOK, "application/json", referencePost))
	mux.Handle("POST /posts", fixedResponse(http.StatusCreated, "application/json", referencePost))
	// A user's own app (--path) answers bytes the reference cannot know: the smallest response
	// stands in as the ceiling.
	mux.Handle("/", fixedResponse(http.StatusOK, "text/plain", helloBody))
	return mux
}

func fixedResponse(status int, contentType string, body []byte) http.Handler {
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // a request body left unread would end keep-alive
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", length)
		w.WriteHeader(status)
		w.Write(body)
	})
}

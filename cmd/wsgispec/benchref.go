package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsgispec/wsgispec/bench"
)

func init() {
	register(bench.ReferenceCommand, "internal: the bench's reference server (bare Go net/http, no Python)", runBenchReference)
}

func runBenchReference(args []string) int {
	fs := flag.NewFlagSet(bench.ReferenceCommand, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: wsgispec bench-reference --listen HOST:PORT\n\n"+
			"Serves every bench scenario's response from Go alone: the ceiling wsgispec bench measures\n"+
			"in every round (server name reference). Stops on SIGTERM or SIGINT.\n\nflags:\n")
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:8000", "`address` to listen on")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "wsgispec %s: unexpected argument %q\n", bench.ReferenceCommand, fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: *listen, Handler: bench.ReferenceHandler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		fmt.Fprintf(os.Stderr, "wsgispec %s: %v\n", bench.ReferenceCommand, err)
		return 2
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(os.Stderr, "wsgispec %s: %v\n", bench.ReferenceCommand, err)
	}
	return 0
}

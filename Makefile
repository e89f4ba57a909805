# wsgispec: build, test, run and benchmark.
#
#   make run     the main job (installs what it needs, builds, runs, writes the report)
#   make test    every test (installs what it needs first)
#   make bench   the standard benchmark comparison
#
# Python comes from Debian: every package below installs into /usr/bin/python3 (3.11). PyPI is not
# used anywhere.
PYTHON ?= /usr/bin/python3
GO     ?= go

# --- The cpy3 compile shim (the only place it lives) --------------------------------------------
# The gateway embeds CPython through github.com/go-python/cpy3 v0.2.0, written for Python 3.7.
# Against Debian's 3.11 it needs:
#  * a forced-include header declaring the four functions 3.11 removed (gateway/py311/compat.h);
#    -Wno-deprecated-declarations silences 3.11's warnings about the 3.7-era calls cpy3 wraps;
#  * PySignal_SetWakeupFd, declared by 3.11 but not exported, defined in gateway/py311_signal.c;
#  * libpython linked explicitly: cpy3 asks pkg-config for "python3", which carries no -lpython;
#    python3-embed is the variant meant for embedding.
# The gateway's files build only with cgo and the build tag "gateway", so that a plain `go install`
# or CGO_ENABLED=0 build (make dist) gives wsgispec without `serve`; here every go command gets the
# tag. Every other package is pure Go and builds and tests with a plain `go test`.
export CGO_ENABLED = 1
GOFLAGS += -tags=gateway
export GOFLAGS
export CGO_CFLAGS  = -include $(CURDIR)/gateway/py311/compat.h -Wno-deprecated-declarations -O2
export CGO_LDFLAGS = $(shell pkg-config --libs python3-embed 2>/dev/null)

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS := -X github.com/wsgispec/wsgispec/internal/version.Version=$(VERSION) \
           -X github.com/wsgispec/wsgispec/internal/version.Commit=$(COMMIT)

DEBIAN_PACKAGES := pkg-config gcc python3-dev python3-flask python3-flask-sqlalchemy python3-django \
	python3-fastapi gunicorn python3-waitress uwsgi-core uwsgi-plugin-python3 python3-cheroot \
	python3-werkzeug python3-gevent apache2 libapache2-mod-wsgi-py3 wrk chromium \
	libxml2-utils

.PHONY: deps build test run bench soak dist clean

# deps: idempotent and quiet when everything is present; needs root only when something is missing.
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: missing Debian packages ($$(echo $$missing)); run 'sudo make deps'" >&2; exit 2; fi; \
	  echo "make deps: installing $$(echo $$missing)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/tmp/wsgispec-apt.log 2>&1 \
	    || { tail -20 /tmp/wsgispec-apt.log >&2; echo "make deps: apt-get failed (log above)" >&2; exit 2; }; \
	fi

# One file: the spec suites, Python apps and gateway are all inside bin/wsgispec.
build:
	@mkdir -p bin
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/wsgispec ./cmd/wsgispec

# Integration tests find the built binaries through WSGISPEC_BIN; without it they skip.
test: deps build
	$(PYTHON) -m unittest discover -s pyapps/asgi
	PYTHONDONTWRITEBYTECODE=1 $(PYTHON) -m unittest discover -s pyapps/probe
	$(GO) vet ./...
	@# The build without the gateway (what go install and make dist give) must keep building.
	CGO_ENABLED=0 GOFLAGS= $(GO) vet ./...
	WSGISPEC_BIN=$(CURDIR)/bin $(GO) test -count=1 -timeout 30m ./...
	./scripts/ci-recipe

run: deps build
	./scripts/run-main-job

# The standard comparison: the reference, the gateway and the installed peers; the HTML page, and
# results/bench.md, the Markdown table that the README shows.
bench: deps build
	@mkdir -p results
	./bin/wsgispec bench --server reference,gateway,gunicorn,uwsgi,waitress --scenario hello,json,echo,stream,flask-read,django-read \
	  --history results/history --json results/bench.json --benchfmt results/bench.txt --markdown results/bench.md
	./bin/wsgispec report --in results --out reports/out --history results/history

# soak: the gateway under a steady load for 10 minutes (loopback only; it stops by itself).
soak: deps build
	WSGISPEC_BIN=$(CURDIR)/bin WSGISPEC_SOAK=$${WSGISPEC_SOAK:-10m} $(GO) test -count=1 -run TestSoak -v -timeout 30m ./gateway

# dist: release archives without the gateway (no cgo, so they run on any machine of their OS and
# architecture), each with README and LICENSE, and their SHA256SUMS.
DIST_TARGETS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
dist:
	@rm -rf dist && mkdir -p dist
	@for t in $(DIST_TARGETS); do \
	  os=$${t%/*}; arch=$${t#*/}; name=wsgispec-$(VERSION)-$$os-$$arch; \
	  mkdir -p dist/$$name && \
	  CGO_ENABLED=0 GOFLAGS= GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/$$name/wsgispec ./cmd/wsgispec && \
	  cp README.md LICENSE dist/$$name/ && \
	  tar -C dist -czf dist/$$name.tar.gz $$name && rm -rf dist/$$name || exit 1; \
	  echo "dist/$$name.tar.gz"; \
	done
	@cd dist && sha256sum *.tar.gz > SHA256SUMS && echo dist/SHA256SUMS

clean:
	rm -rf bin dist reports/out results

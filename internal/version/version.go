// Package version holds the build's identity: stamped by the Makefile (and make dist) with
// -ldflags -X, else read from the module's build information, which `go install …@vX` records.
package version

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Module is wsgispec's module path.
const Module = "github.com/wsgispec/wsgispec"

// Version is the wsgispec release or `git describe` output; stamped, or found by init.
var Version = ""

// Commit is the git commit the binary was built from, empty when unknown.
var Commit = ""

func init() {
	if Version != "" {
		return
	}
	Version, Commit = fromBuildInfo()
}

// fromBuildInfo is the version `go install module@version` recorded, or for a build in a
// checkout the VCS revision the go command stamps; "dev" when neither is known.
func fromBuildInfo() (version, commit string) {
	version = "dev"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version, ""
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		version = v
	}
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
			if len(commit) > 12 {
				commit = commit[:12]
			}
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if commit != "" && dirty {
		commit += "-dirty"
	}
	return version, commit
}

// String is the version line `wsgispec --version` prints.
func String() string {
	s := "wsgispec " + Version
	if Commit != "" && !strings.Contains(Version, Commit) {
		s += " (" + Commit + ")"
	}
	return s
}

// GatewayInstallLine is the shell line that installs this version of wsgispec with the gateway:
// cgo on, the "gateway" build tag, and the forced-include header (from the module's own source,
// hence the download first) that lets cpy3 v0.2.0 build against Python 3.11; see the Makefile.
func GatewayInstallLine() string {
	v := Version
	if !strings.HasPrefix(v, "v") || strings.Contains(v, "-dirty") {
		v = "latest" // a build from a checkout: no release of its own to name
	}
	return fmt.Sprintf(`src=$(go mod download -json %[1]s@%[2]s | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p') && `+
		`CGO_ENABLED=1 CGO_CFLAGS="-include $src/gateway/py311/compat.h -Wno-deprecated-declarations" `+
		`CGO_LDFLAGS="$(pkg-config --libs python3-embed)" go install -tags gateway %[1]s/cmd/wsgispec@%[2]s`,
		Module, v)
}

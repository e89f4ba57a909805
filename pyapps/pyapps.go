// Package pyapps carries the Python side of wsgispec (the probe, the framework apps, the ASGI
// adapter) inside the binary, so an installed wsgispec works outside the source tree.
package pyapps

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

//go:embed all:*
var files embed.FS

// EnvDir names a directory that overrides where the Python apps are looked for.
const EnvDir = "WSGISPEC_PYAPPS"

// Dir returns a directory holding the Python apps: $WSGISPEC_PYAPPS when set, the source tree's
// pyapps/ when the binary runs from bin/ beside it, otherwise the embedded copy extracted once
// into the user's cache directory (named by content hash, so versions never mix).
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return filepath.Abs(d)
	}
	if exe, err := os.Executable(); err == nil {
		src := filepath.Join(filepath.Dir(exe), "..", "pyapps")
		if st, err := os.Stat(filepath.Join(src, "probe")); err == nil && st.IsDir() {
			return filepath.Abs(src)
		}
	}
	return extract()
}

func extract() (string, error) {
	h := sha256.New()
	var paths []string
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "__pycache__" {
			return fs.SkipDir
		}
		if !d.IsDir() && !strings.HasSuffix(p, ".go") {
			paths = append(paths, p)
			b, _ := files.ReadFile(p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "wsgispec", "pyapps-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".pyapps-")
	if err != nil {
		if err = os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return "", fmt.Errorf("pyapps: %w", err)
		}
		if tmp, err = os.MkdirTemp(filepath.Dir(dir), ".pyapps-"); err != nil {
			return "", fmt.Errorf("pyapps: %w", err)
		}
	}
	for _, p := range paths {
		b, _ := files.ReadFile(p)
		dst := filepath.Join(tmp, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if _, serr := os.Stat(filepath.Join(dir, ".complete")); serr == nil {
			return dir, nil // another process extracted it first
		}
		return "", fmt.Errorf("pyapps: %w", err)
	}
	return dir, nil
}

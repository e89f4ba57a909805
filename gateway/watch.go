//go:build cgo && gateway

package gateway

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fsnotify/fsnotify"
)

// watcher reports changes to .py files anywhere under a directory (debug reload).
type watcher struct {
	fs   *fsnotify.Watcher
	done chan struct{}
}

func watch(root string, changed func()) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{fs: fw, done: make(chan struct{})}
	addTree := func(dir string) {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if name := d.Name(); p != dir && (name == "__pycache__" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			fw.Add(p)
			return nil
		})
	}
	addTree(root)
	go func() {
		defer close(w.done)
		for {
			select {
			case ev, ok := <-fw.Events:
				if !ok {
					return
				}
				if ev.Has(fsnotify.Create) {
					if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
						addTree(ev.Name)
					}
				}
				if strings.HasSuffix(ev.Name, ".py") && !ev.Has(fsnotify.Chmod) {
					changed()
				}
			case _, ok := <-fw.Errors:
				if !ok {
					return
				}
			}
		}
	}()
	return w, nil
}

func (w *watcher) close() {
	w.fs.Close()
	<-w.done
}

package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// HistoryFile is the JSON Lines store in a --history directory: one bench result file a line,
// with its commit, start time and host, oldest first. The reports read it for trends.
const HistoryFile = "bench.jsonl"

// AppendHistory appends f as one line to dir's history store, creating both when missing.
func AppendHistory(dir string, f *File) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--history: %w", err)
	}
	line, err := json.Marshal(f)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, HistoryFile)
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("--history: %w", err)
	}
	// One write per line: concurrent appenders (two CI jobs sharing a directory) never interleave.
	if _, err := out.Write(append(line, '\n')); err != nil {
		out.Close()
		return fmt.Errorf("--history: %w", err)
	}
	return out.Close()
}

// ReadHistory reads every run stored in dir's history, oldest first.
func ReadHistory(dir string) ([]File, error) {
	b, err := os.ReadFile(filepath.Join(dir, HistoryFile))
	if err != nil {
		return nil, err
	}
	var out []File
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var f File
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("%s: entry %d: %w", filepath.Join(dir, HistoryFile), len(out)+1, err)
		}
		out = append(out, f)
	}
	return out, nil
}

package harness

import (
	"encoding/json"
	"testing"
)

// TestRunErrorReadsBothLayouts: schema_version 2 writes an object; a version 1 file's string
// still reads, as the message.
func TestRunErrorReadsBothLayouts(t *testing.T) {
	var v2, v1 ConformRun
	if err := json.Unmarshal([]byte(`{"error": {"message": "server x exited", "output": "Traceback"}}`), &v2); err != nil ||
		v2.Error == nil || *v2.Error != (RunError{Message: "server x exited", Output: "Traceback"}) {
		t.Errorf("version 2 error: %+v, %v", v2.Error, err)
	}
	if err := json.Unmarshal([]byte(`{"error": "server x exited; its output ends:\n    Traceback"}`), &v1); err != nil ||
		v1.Error == nil || v1.Error.Message != "server x exited; its output ends:\n    Traceback" {
		t.Errorf("version 1 error: %+v, %v", v1.Error, err)
	}
	if got := v2.Error.String(); got != "server x exited; its output ends:\n    Traceback" {
		t.Errorf("String() = %q", got)
	}
}

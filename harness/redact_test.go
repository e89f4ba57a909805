package harness

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/wsgispec/wsgispec/specs/catalog"
)

func TestRedactorRemovesSecretValuesInEveryForm(t *testing.T) {
	secret := "ghp_Zx9ü\"Q1w2e3r4"
	r := NewRedactor([]string{
		"GITHUB_TOKEN=" + secret, "DB_PASSWORD=hunter2-hunter2", "SESSION_COOKIE=short",
		"PATH=/usr/bin:/bin", "HOME=/root", "api_key=lowercase-name-too",
	})
	jsonForm := `ghp_Zx9\u00fc\"Q1w2e3r4` // as Python's json.dumps writes it
	b64 := base64.StdEncoding.EncodeToString([]byte(secret))
	run := ConformRun{
		Server: ServerInfo{Name: "wsgiref", Command: "python3 -c ..."},
		Cases: []CaseResult{{
			Case: catalog.Case{ID: "environ.required-keys"},
			Evidence: catalog.Evidence{
				Transcript: `< {"GITHUB_TOKEN": {"text": "` + jsonForm + `", "latin1": "` + b64 + `"}}`,
				Actual:     "GITHUB_TOKEN=" + secret + " DB_PASSWORD=hunter2-hunter2 key=lowercase-name-too",
			},
		}},
		Warnings: []string{"the server printed " + secret},
	}
	runs := []ConformRun{run}
	r.Apply(runs)
	got := runs[0]
	for _, s := range []string{got.Cases[0].Transcript, got.Cases[0].Actual, got.Warnings[0]} {
		for _, leaked := range []string{secret, jsonForm, b64, "hunter2-hunter2", "lowercase-name-too"} {
			if strings.Contains(s, leaked) {
				t.Errorf("%q still holds %q", s, leaked)
			}
		}
	}
	if !strings.Contains(got.Cases[0].Actual, "GITHUB_TOKEN=[redacted $GITHUB_TOKEN] DB_PASSWORD=[redacted $DB_PASSWORD]") {
		t.Errorf("the redaction should name the variable: %q", got.Cases[0].Actual)
	}
	if got.Server.Command != "python3 -c ..." || r.String("/usr/bin:/bin and /root, short") != "/usr/bin:/bin and /root, short" {
		t.Error("values of variables that do not look secret, and values too short to be credentials, must stay")
	}
	m := map[string]string{"x": secret}
	r.Apply(m)
	if m["x"] != "[redacted $GITHUB_TOKEN]" {
		t.Errorf("map value: %q", m["x"])
	}
}

func TestRedactorWithNothingToRedact(t *testing.T) {
	r := NewRedactor([]string{"PATH=/usr/bin"})
	runs := []ConformRun{{Server: ServerInfo{Name: "x"}}}
	r.Apply(runs)
	if runs[0].Server.Name != "x" || r.String("abc") != "abc" {
		t.Error("a redactor without secrets changed its input")
	}
}

package harness

import (
	"reflect"
	"strings"
	"testing"
)

func TestCommandTemplateExpands(t *testing.T) {
	l := Launch{
		Env:  Env{Python: "/usr/bin/python3"},
		Host: "127.0.0.1", Port: 8123,
		App: App{Dir: "/srv/my apps/probe", Module: "probe", Callable: "application"},
	}
	for _, tc := range []struct {
		template string
		want     []string
	}{
		{"gunicorn -b {host}:{port} --chdir {app_dir} {app}",
			[]string{"gunicorn", "-b", "127.0.0.1:8123", "--chdir", "/srv/my apps/probe", "probe:application"}},
		{`{python} -c 'from {module} import {callable}; print("{{}}")' --port={port}`,
			[]string{"/usr/bin/python3", "-c", `from probe import application; print("{}")`, "--port=8123"}},
		{`  srv  "--bind=[{host}]:{port}"   a\ b "q\"uote" '' `,
			[]string{"srv", "--bind=[127.0.0.1]:8123", "a b", `q"uote`, ""}},
	} {
		tmpl, err := ParseCommandTemplate(tc.template)
		if err != nil {
			t.Errorf("ParseCommandTemplate(%q): %v", tc.template, err)
			continue
		}
		if got := tmpl.Expand(l); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Expand(%q) = %q, want %q", tc.template, got, tc.want)
		}
	}
}

func TestCommandTemplateRejects(t *testing.T) {
	for _, tc := range []struct{ template, wantErr string }{
		{"", "empty"},
		{"   ", "empty"},
		{"gunicorn -b {host}:{prot} {app}", "unknown placeholder {prot}"},
		{"gunicorn -b {host}:{port {app}", "unclosed {"},
		{"gunicorn -b {host}:{port}} {app}", "lone }"},
		{"gunicorn -b '{host}:{port} {app}", "unterminated '"},
		{`gunicorn -b "{host}:{port} {app}`, `unterminated "`},
		{`gunicorn -b {host}:{port} \`, "lone backslash"},
		{"gunicorn {app}", "no {port}"},
	} {
		_, err := ParseCommandTemplate(tc.template)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseCommandTemplate(%q) = %v, want an error saying %q", tc.template, err, tc.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseCommandTemplate(%q): error spans lines: %q", tc.template, err)
		}
	}
}

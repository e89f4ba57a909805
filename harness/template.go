package harness

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Placeholders a --server-cmd template may use, and what each expands to.
var placeholders = map[string]func(Launch) string{
	"host":     func(l Launch) string { return l.Host },
	"port":     func(l Launch) string { return strconv.Itoa(l.Port) },
	"app_dir":  func(l Launch) string { return l.App.Dir },
	"module":   func(l Launch) string { return l.App.Module },
	"callable": func(l Launch) string { return l.App.Callable },
	"app":      func(l Launch) string { return l.App.Spec() },
	"python":   func(l Launch) string { return l.Python },
}

const placeholderList = "{host} {port} {app_dir} {module} {callable} {app} {python}"

// segment is literal text, or a placeholder when name is set.
type segment struct{ text, name string }

// CommandTemplate is a parsed --server-cmd: words split the way a POSIX shell splits them
// (quotes and backslashes, no expansion, no pipes), each word a run of literal text and
// placeholders. Placeholders expand inside a word after splitting, so a path with spaces stays
// one argument. {{ and }} are literal braces.
type CommandTemplate struct {
	Source string
	words  [][]segment
}

// ParseCommandTemplate parses and checks a template: balanced quotes and braces, known
// placeholders only, and a {port}, since the harness chooses the port.
func ParseCommandTemplate(src string) (*CommandTemplate, error) {
	words, err := splitWords(src)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, errors.New("the server command template is empty")
	}
	t := &CommandTemplate{Source: src}
	hasPort := false
	for _, w := range words {
		segs, err := parsePlaceholders(w)
		if err != nil {
			return nil, err
		}
		for _, s := range segs {
			hasPort = hasPort || s.name == "port"
		}
		t.words = append(t.words, segs)
	}
	if !hasPort {
		return nil, errors.New("the server command template has no {port}: the harness picks a free port and the server must listen on it")
	}
	return t, nil
}

// Expand returns the command line for one launch.
func (t *CommandTemplate) Expand(l Launch) []string {
	argv := make([]string, len(t.words))
	for i, w := range t.words {
		var b strings.Builder
		for _, s := range w {
			if s.name != "" {
				b.WriteString(placeholders[s.name](l))
			} else {
				b.WriteString(s.text)
			}
		}
		argv[i] = b.String()
	}
	return argv
}

// DefaultName is the name a --server-cmd run carries without --name: what the command runs,
// as a user would call it ("mywsgi" for `mywsgi --bind …`, the module for `python -m mod`, the
// script's stem for `python serve.py`), or "custom" when the template does not say.
func (t *CommandTemplate) DefaultName() string {
	// word is word i when it is plain text; python reports whether it is {python}.
	word := func(i int) (text string, python bool) {
		if i >= len(t.words) || len(t.words[i]) != 1 {
			return "", false
		}
		seg := t.words[i][0]
		return seg.text, seg.name == "python"
	}
	name, isPython := word(0)
	isPython = isPython || pythonName.MatchString(filepath.Base(name))
	switch next, _ := word(1); {
	case isPython && next == "-m":
		name, _ = word(2)
	case isPython:
		name = strings.TrimSuffix(filepath.Base(next), ".py")
	default:
		name = filepath.Base(name)
	}
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.+-", r) {
			return r
		}
		return -1
	}, name)
	if !ServerName.MatchString(name) || name == "all" {
		return "custom"
	}
	return name
}

var pythonName = regexp.MustCompile(`^python[0-9.]*$`)

// ServerName is what a server's name may look like: it goes into file names, report columns
// and --server lists.
var ServerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$`)

// CustomServer is a server the user describes: a --server-cmd with its flags, or a table of a
// servers file. Everything else about it is measured, as for a built-in one.
type CustomServer struct {
	Name     string
	Template *CommandTemplate
	// Version is the server's version as given; else VersionCmd's first line of output; else
	// unknown ("").
	Version    string
	VersionCmd string // a command line, split like Template (no placeholders)
	Env        map[string]string
	// Dir is the working directory; "" runs the server in the app's directory.
	Dir          string
	ReadyPath    string
	StartTimeout time.Duration
}

// Adapter is the server as an adapter for every command.
func (s CustomServer) Adapter() *Adapter {
	env := make([]string, 0, len(s.Env))
	for k, v := range s.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return &Adapter{
		Name:     s.Name,
		Runs:     s.Template.Source,
		Purposes: ForAll,
		// A template names its own interpreter, or uses {python}.
		UsesPython:   strings.Contains(s.Template.Source, "{python}"),
		ReadyPath:    s.ReadyPath,
		StartTimeout: s.StartTimeout,
		Detect:       s.detect,
		Command: func(l Launch) (Command, error) {
			dir := s.Dir
			if dir == "" {
				dir = l.App.Dir
			}
			return Command{Argv: s.Template.Expand(l), Dir: dir, Env: env}, nil
		},
	}
}

// detect is the version given, or the version command's first line; it fails when the
// command's program cannot be found.
func (s CustomServer) detect(ctx context.Context, env Env) (string, error) {
	if w := s.Template.words[0]; len(w) == 1 && w[0].name == "" {
		if _, err := exec.LookPath(w[0].text); err != nil {
			return "", fmt.Errorf("its command %q cannot be run: %v", w[0].text, err)
		}
	}
	if s.Version != "" || s.VersionCmd == "" {
		return s.Version, nil
	}
	return RunVersionCommand(ctx, s.VersionCmd)
}

// splitWords splits like a POSIX shell without expansions: blanks separate words; '…' is
// literal; "…" is literal except that a backslash escapes " \ $ and `; outside quotes a
// backslash escapes any character.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("the server command template has an unterminated ' at column %d", i+1)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			closed := false
			for i++; i < len(s); i++ {
				if s[i] == '"' {
					closed = true
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if !closed {
				return nil, errors.New(`the server command template has an unterminated "`)
			}
			inWord = true
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("the server command template ends with a lone backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func parsePlaceholders(w string) ([]segment, error) {
	var segs []segment
	var lit strings.Builder
	for i := 0; i < len(w); i++ {
		switch {
		case strings.HasPrefix(w[i:], "{{"), strings.HasPrefix(w[i:], "}}"):
			lit.WriteByte(w[i])
			i++
		case w[i] == '{':
			j := strings.IndexByte(w[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("the server command template has an unclosed { in %q", w)
			}
			name := w[i+1 : i+j]
			if _, ok := placeholders[name]; !ok {
				return nil, fmt.Errorf("the server command template has an unknown placeholder {%s} (known: %s; {{ and }} are literal braces)", name, placeholderList)
			}
			if lit.Len() > 0 {
				segs = append(segs, segment{text: lit.String()})
				lit.Reset()
			}
			segs = append(segs, segment{name: name})
			i += j
		case w[i] == '}':
			return nil, fmt.Errorf("the server command template has a lone } in %q (}} is a literal brace)", w)
		default:
			lit.WriteByte(w[i])
		}
	}
	if lit.Len() > 0 {
		segs = append(segs, segment{text: lit.String()})
	}
	return segs, nil
}

// RunVersionCommand runs a --version-cmd (split like a template, no placeholders) and returns
// the first line of its output.
func RunVersionCommand(ctx context.Context, command string) (string, error) {
	argv, err := splitWords(command)
	if err == nil && len(argv) == 0 {
		err = errors.New("it is empty")
	}
	if err != nil {
		return "", fmt.Errorf("version command %q: %v", command, err)
	}
	ctx, cancel := context.WithTimeout(ctx, detectTimeout)
	defer cancel()
	out, err := runQuiet(ctx, argv[0], argv[1:]...)
	if err != nil {
		return "", fmt.Errorf("version command %q failed: %v", command, err)
	}
	first, _, _ := strings.Cut(out, "\n")
	return strings.TrimSpace(first), nil
}

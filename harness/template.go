package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// CustomServerName is the name results carry for a server started from a --server-cmd template.
const CustomServerName = "custom"

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

// Adapter wraps the template as an adapter named CustomServerName, run from the app directory.
func (t *CommandTemplate) Adapter() *Adapter {
	return &Adapter{
		Name:     CustomServerName,
		Runs:     t.Source,
		Purposes: ForAll,
		// A template names its own interpreter, or uses {python}.
		UsesPython: strings.Contains(t.Source, "{python}"),
		Detect:     func(context.Context, Env) (string, error) { return "", nil },
		Command: func(l Launch) (Command, error) {
			return Command{Argv: t.Expand(l), Dir: l.App.Dir}, nil
		},
	}
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

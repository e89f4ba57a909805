package harness

import (
	"encoding/base64"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// A server started by the harness gets a clean environment (CleanEnviron), but a variable passed
// with --pass-env, or the environment of a server the user started (--url), can still reach a
// request's environ and so the transcripts. The probe hides the values of environ keys that look
// secret; the harness, beside it, removes the values of its own secret-looking variables from
// everything it writes, in whatever form the probe shows them (as text, JSON-escaped, base64).

// SecretName matches a variable name that looks like it holds a secret.
var SecretName = regexp.MustCompile(`(?i)TOKEN|SECRET|PASSWORD|PASSWD|KEY|AUTH|COOKIE`)

// minSecretLen is the shortest value redacted: a shorter one ("1", "none") is no credential and
// would be replaced in unrelated text.
const minSecretLen = 8

// Redactor replaces secret values in strings.
type Redactor struct {
	replacer *strings.Replacer // nil when there is nothing to redact
}

// NewRedactor redacts the values of the secret-looking variables in environ ("NAME=value").
func NewRedactor(environ []string) *Redactor {
	type needle struct{ text, name string }
	var needles []needle
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !SecretName.MatchString(name) || len(value) < minSecretLen {
			continue
		}
		forms := []string{value, base64.StdEncoding.EncodeToString([]byte(value)), pythonJSONEscape(value)}
		for _, f := range forms {
			needles = append(needles, needle{f, name})
		}
	}
	if len(needles) == 0 {
		return &Redactor{}
	}
	// Longest first, so that a value containing another is replaced whole.
	sort.SliceStable(needles, func(i, j int) bool { return len(needles[i].text) > len(needles[j].text) })
	var pairs []string
	seen := map[string]bool{}
	for _, n := range needles {
		if !seen[n.text] {
			seen[n.text] = true
			pairs = append(pairs, n.text, fmt.Sprintf("[redacted $%s]", n.name))
		}
	}
	return &Redactor{replacer: strings.NewReplacer(pairs...)}
}

// pythonJSONEscape is s as Python's json.dumps writes it inside quotes (ASCII only), which is
// how the probe's JSON bodies carry it.
func pythonJSONEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			if r > 0xffff {
				r1, r2 := utf16Pair(r)
				fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// String returns s with every secret value replaced.
func (r *Redactor) String(s string) string {
	if r.replacer == nil || s == "" {
		return s
	}
	return r.replacer.Replace(s)
}

// Apply redacts, in place, every string reachable from v (a pointer to a result, or a slice of
// them): struct fields, slice and array elements, map values.
func (r *Redactor) Apply(v any) {
	if r.replacer != nil {
		r.walk(reflect.ValueOf(v))
	}
}

func (r *Redactor) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			r.walk(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				r.walk(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			r.walk(v.Index(i))
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			// Map values are not addressable: redact a copy and put it back.
			e := reflect.New(iter.Value().Type()).Elem()
			e.Set(iter.Value())
			r.walk(e)
			v.SetMapIndex(iter.Key(), e)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(r.String(v.String()))
		}
	}
}

// processRedactor redacts wsgispec's own secret-looking variables.
var processRedactor = sync.OnceValue(func() *Redactor { return NewRedactor(os.Environ()) })

// Redact redacts, in place, every string reachable from v of the values of wsgispec's own
// secret-looking environment variables. Every command applies it to its results before writing
// any of them (JSON, JUnit, the terminal, and so the HTML reports made from the JSON).
func Redact(v any) {
	processRedactor().Apply(v)
}

// RedactString is Redact for one string (an error message quoting a server's output).
func RedactString(s string) string {
	return processRedactor().String(s)
}

// Package schema holds the JSON Schemas (draft 2020-12) of every result file wsgispec writes, one
// per kind, and validates a file against its kind's schema. The .json files beside this one are
// the published schemas; they are embedded so that tests validate every output against exactly
// what is published.
package schema

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.json
var files embed.FS

// base is the $id prefix of every schema file.
const base = "https://github.com/wsgispec/wsgispec/docs/schema/"

// Kinds are the kinds of result file that have a schema.
var Kinds = []string{"conform", "matrix", "bench", "catalog"}

var compiled = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", e.Name(), err)
		}
		if err := c.AddResource(base+e.Name(), doc); err != nil {
			return nil, err
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, k := range Kinds {
		s, err := c.Compile(base + k + ".json")
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
})

// Validate checks a result file (JSON) against the schema of the kind it names.
func Validate(doc []byte) error {
	schemas, err := compiled()
	if err != nil {
		return fmt.Errorf("the schemas do not compile: %w", err)
	}
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	s, ok := schemas[head.Kind]
	if !ok {
		return fmt.Errorf("no schema for kind %q (known: %v)", head.Kind, Kinds)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("a %s file does not match docs/schema/%s.json: %w", head.Kind, head.Kind, err)
	}
	return nil
}

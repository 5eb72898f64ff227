package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the config file at path; see Parse.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes a config file over Default() and validates the result; name
// (usually the file's path) starts every message. Keys left out keep their
// defaults; lists and maps given replace the default ones whole. ${VAR} and
// ${VAR:-default} in values are taken from the environment.
//
// The error, if any, lists every problem found, one per line, each naming
// the file, line and key path:
//
//	config.yaml:12: anomaly.overides: unknown key (did you mean "overrides"?)
//	config.yaml:20: moving_average.ticks: must be in [2, 100000], got 1
//
// A value that came from the environment is never shown in an error.
func Parse(data []byte, name string) (*Config, error) {
	root, err := parseYAML(data, name)
	if err != nil {
		return nil, err
	}
	c := Default()
	d := &decoder{file: name, src: map[string]origin{}}
	if root != nil {
		d.decode("", root, reflect.ValueOf(c).Elem())
	}
	errs := append(d.errs, c.validate(name, d.src)...)
	if len(errs) > 0 {
		// In file order, so they can be fixed top to bottom; those with
		// no line (a default in conflict) last.
		slices.SortStableFunc(errs, func(a, b error) int {
			return cmp.Compare(lineOr(a), lineOr(b))
		})
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// lineOr returns the line of a problem, or a line after any other.
func lineOr(err error) int {
	if p, ok := err.(*problem); ok && p.line > 0 {
		return p.line
	}
	return math.MaxInt
}

// yamlLine matches yaml.v3's syntax errors, "yaml: line 3: message".
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses data into a node tree: the top-level mapping, or nil for
// an empty file.
func parseYAML(data []byte, name string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, next yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return nil, nil
	} else if err != nil {
		return nil, syntaxError(name, err)
	}
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &problem{file: name, line: next.Line, msg: "want one YAML document, found a second"}
	case err != io.EOF:
		return nil, syntaxError(name, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// syntaxError turns yaml.v3's "yaml: line 3: message" into our message form.
func syntaxError(name string, err error) error {
	p := &problem{file: name, msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		p.line, _ = strconv.Atoi(m[1])
		p.msg = "invalid YAML: " + m[2]
	}
	return p
}

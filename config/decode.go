package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder fills a Config from a parsed yaml.Node tree. We walk the tree
// ourselves instead of calling yaml.v3's decoder because that one cannot do
// what a config file needs: Node.Decode has no strict mode, strictness is
// lost under custom UnmarshalYAML, its messages name Go types instead of
// keys, and it silently truncates 1.5 into an int field. Walking by
// reflection over the yaml tags gives every error its full key path and line,
// and reports every problem in one pass.
type decoder struct {
	file string
	src  map[string]origin // key path ("kafka.topic", "symbols[3]") → origin
	errs []error
}

// origin says where a key's value came from, for later validation messages.
type origin struct {
	line int
	env  bool // the value came from the environment: never print it
	bad  bool // decoding it failed already: don't report it again
}

// problem is one line of a load or validation error:
// "config.yaml:12: anomaly.overides: unknown key".
type problem struct {
	file string
	line int
	key  string
	msg  string
}

func (p *problem) Error() string {
	var b strings.Builder
	switch {
	case p.file != "" && p.line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.file, p.line)
	case p.file != "":
		b.WriteString(p.file + ": ")
	case p.line > 0:
		fmt.Fprintf(&b, "line %d: ", p.line)
	}
	if p.key != "" {
		b.WriteString(p.key + ": ")
	}
	b.WriteString(p.msg)
	return b.String()
}

func (d *decoder) errorf(line int, key, format string, args ...any) {
	d.errs = append(d.errs, &problem{file: d.file, line: line, key: key, msg: fmt.Sprintf(format, args...)})
	o := d.src[key]
	o.bad = true
	d.src[key] = o
}

var durationType = reflect.TypeFor[time.Duration]()

// decode sets v from n; path names n for messages.
func (d *decoder) decode(path string, n *yaml.Node, v reflect.Value) {
	// Following aliases cannot blow up ("billion laughs"): the walk goes
	// no deeper than the Config type, and an alias to the wrong kind of
	// node stops at one error.
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch {
	case v.Type() == durationType:
		d.scalar(path, n, v)
	case v.Kind() == reflect.Struct:
		d.object(path, n, v)
	case v.Kind() == reflect.Map:
		d.dict(path, n, v)
	case v.Kind() == reflect.Slice:
		d.list(path, n, v)
	case v.Kind() == reflect.Pointer:
		// Only ThresholdOverride has pointers: null there means "not
		// overridden", which is also how yaml.Marshal writes an unset one.
		if isNull(n) {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		d.decode(path, n, p.Elem())
		v.Set(p)
	default:
		d.scalar(path, n, v)
	}
}

// object decodes a mapping over the struct v field by field, so keys left
// out keep their defaults. A null (a section whose keys are all commented
// out) keeps them all.
func (d *decoder) object(path string, n *yaml.Node, v reflect.Value) {
	fields, names := fieldsOf(v.Type())
	d.pairs(path, n, func(p string, k, val *yaml.Node) {
		idx, ok := fields[k.Value]
		if !ok {
			if s := suggest(k.Value, names); s != "" {
				d.errorf(k.Line, p, "unknown key (did you mean %q?)", s)
			} else {
				d.errorf(k.Line, p, "unknown key")
			}
			return
		}
		d.decode(p, val, v.FieldByIndex(idx))
	})
}

// dict decodes a mapping into a new map, replacing the default one.
func (d *decoder) dict(path string, n *yaml.Node, v reflect.Value) {
	m := reflect.MakeMap(v.Type())
	d.pairs(path, n, func(p string, k, val *yaml.Node) {
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(p, val, e)
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), e)
	})
	v.Set(m)
}

// pairs calls fn for each entry of mapping n with the entry's key path,
// reporting keys that are not plain scalars or that repeat.
func (d *decoder) pairs(path string, n *yaml.Node, fn func(p string, k, v *yaml.Node)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "want a mapping, got %s", kindOf(n))
		return
	}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "want a plain key, got %s", kindOf(k))
			continue
		}
		p := k.Value
		if path != "" {
			p = path + "." + k.Value
		}
		if line, dup := first[k.Value]; dup {
			d.errorf(k.Line, p, "duplicate key (first at line %d)", line)
			continue
		}
		first[k.Value] = k.Line
		d.src[p] = origin{line: k.Line}
		fn(p, k, val)
	}
}

// list decodes a sequence into a new slice, replacing the default one; null
// is the empty list.
func (d *decoder) list(path string, n *yaml.Node, v reflect.Value) {
	if isNull(n) {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, path, "want a list, got %s", kindOf(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.src[p] = origin{line: e.Line}
		d.decode(p, e, s.Index(i))
	}
	v.Set(s)
}

// scalar expands ${VAR} references in n and sets v from the result.
func (d *decoder) scalar(path string, n *yaml.Node, v reflect.Value) {
	want := describe(v.Type())
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, path, "want %s, got %s", want, kindOf(n))
		return
	}
	if isNull(n) {
		d.errorf(n.Line, path, "want %s, got no value (delete the key to keep the default)", want)
		return
	}
	text, env, err := expandEnv(n.Value)
	if err != nil {
		d.errorf(n.Line, path, "%v", err)
		return
	}
	o := d.src[path]
	o.env = env
	d.src[path] = o
	got := strconv.Quote(text)
	if env {
		got = "a value from the environment (not shown)"
	}

	switch {
	case v.Type() == durationType:
		t, err := time.ParseDuration(text)
		if err != nil {
			d.errorf(n.Line, path, "want %s, got %s", want, got)
			return
		}
		v.SetInt(int64(t))
	case v.Kind() == reflect.String:
		v.SetString(text)
	default:
		// Let YAML's own rules say what the text is (0x1F, 1_000, .inf,
		// true); an expanded value is read as if it had been written
		// unquoted in its place.
		tmp := *n
		if text != n.Value {
			tmp.Value, tmp.Tag, tmp.Style = text, "", 0
		}
		var x any
		if err := tmp.Decode(&x); err != nil || !setNumber(v, x) {
			d.errorf(n.Line, path, "want %s, got %s", want, got)
		}
	}
}

// setNumber sets an int, float or bool v from a value YAML resolved; it
// refuses what would lose information, such as 1.5 into an int.
func setNumber(v reflect.Value, x any) bool {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		switch x := x.(type) {
		case int:
			i = int64(x)
		case int64:
			i = x
		default:
			return false
		}
		if v.OverflowInt(i) {
			return false
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		switch x := x.(type) {
		case int:
			v.SetFloat(float64(x))
		case int64:
			v.SetFloat(float64(x))
		case uint64:
			v.SetFloat(float64(x))
		case float64:
			v.SetFloat(x)
		default:
			return false
		}
	case reflect.Bool:
		b, ok := x.(bool)
		if !ok {
			return false
		}
		v.SetBool(b)
	default:
		panic("BUG: config: no decoder for " + v.Type().String())
	}
	return true
}

// fieldsOf maps the yaml keys of struct type t to field indexes, flattening
// ",inline" structs, and lists the keys in order for suggestions.
func fieldsOf(t reflect.Type) (map[string][]int, []string) {
	fields := map[string][]int{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if opts == "inline" {
			sub, subNames := fieldsOf(f.Type)
			for _, n := range subNames {
				fields[n] = append([]int{i}, sub[n]...)
			}
			names = append(names, subNames...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = []int{i}
		names = append(names, name)
	}
	return fields, names
}

// suggest returns the known key closest to key when it is close enough to
// be a typo (edit distance at most 2, ignoring case), else "".
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(strings.ToLower(key), k); dist < bestDist && dist < len(key) {
			best, bestDist = k, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindOf describes what n is, for "want X, got Y" messages.
func kindOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "nothing usable"
}

// describe says what a value of type t looks like in YAML.
func describe(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 90s or 1m30s"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// sortedKeys returns m's keys in order, so messages come out the same each run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

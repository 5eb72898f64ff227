package config

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.bad.yml.err golden files")

// secret is what testdata's ${TICKSTREAM_TEST_SECRET} expands to: no error
// message may ever contain it.
const secret = "hunter2 s3cr3t!"

// setTestEnv sets the variables testdata refers to.
func setTestEnv(t testing.TB) {
	t.Setenv("TICKSTREAM_TEST_SECRET", secret)
	t.Setenv("TICKSTREAM_TEST_TICKS", "120")
	t.Setenv("TICKSTREAM_TEST_EMPTY", "")
	t.Setenv("TICKSTREAM_TEST_UNSET", "") // restores the old value at the end
	os.Unsetenv("TICKSTREAM_TEST_UNSET")
}

func TestGoodFiles(t *testing.T) {
	setTestEnv(t)
	tested := map[string]bool{}
	f := func(name string, change func(c *Config)) {
		t.Helper()
		path := filepath.Join("testdata", name+".good.yml")
		tested[path] = true
		got, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		want := Default()
		change(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", path, got, want)
		}
	}

	f("empty", func(c *Config) {})
	f("kafka-sasl", func(c *Config) {
		c.Symbols = []string{"AAPL"}
		c.Kafka.Brokers = []string{"127.0.0.1:9092"}
		c.Kafka.TLS = KafkaTLS{Enabled: true, CAFile: "/etc/ssl/kafka-ca.pem"}
		c.Kafka.SASL = KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "tickstream", Password: Secret(os.Getenv("TICKSTREAM_TEST_SECRET"))}
	})
	f("partial", func(c *Config) {
		c.Symbols = []string{"AAPL", "BRK.B", "^GSPC"}
		c.SyntheticSymbols = 0
		c.Kafka.Brokers = []string{"kafka-1:9092", "[::1]:9093"}
		c.Kafka.Partitions = 12
		c.Anomaly.SpikeFactor = 4.5
		c.Simulator.Enabled = "off"
	})
	f("env", func(c *Config) {
		c.Kafka.Partitions = 120
		c.Kafka.Replication = 3
		c.Kafka.Group = "tick-blue"
		c.Kafka.ClientID = secret
		c.Lake.URL = "./lake-${NOT_EXPANDED}"
	})
	f("overrides", func(c *Config) {
		f8, f10, w, m2 := 8.0, 10.0, 300, 2*time.Minute
		m5 := 5 * time.Minute
		c.Anomaly.Overrides = map[string]ThresholdOverride{
			"TSLA":    {SpikeFactor: &f8, DropFromMaxPct: &f10},
			"KO":      {Cooldown: &m5},
			"SYN0980": {WarmupTicks: &w, DropReturnWindow: &m2},
		}
	})
	f("yaml-features", func(c *Config) {
		c.Clean.MaxRecordBytes = 8192
		c.Clean.AllowedLateness = 0
		c.Lake.FlushBytes = 64000000
		c.Lake.FlushInterval = 90 * time.Second
		c.Alerts.Log = false
		c.Simulator.Rate = 0.5
		c.Simulator.Seed = -7
		c.Engine.ShutdownTimeout = 90 * time.Second
	})

	all, _ := filepath.Glob("testdata/*.good.yml")
	for _, path := range all {
		if !tested[path] {
			t.Errorf("%s: not in TestGoodFiles", path)
		}
	}
}

// TestBadFiles loads each testdata/*.bad.yml and compares the error with
// the golden file beside it (go test -update rewrites them).
func TestBadFiles(t *testing.T) {
	setTestEnv(t)
	paths, _ := filepath.Glob("testdata/*.bad.yml")
	if len(paths) == 0 {
		t.Fatal("no testdata/*.bad.yml")
	}
	for _, path := range paths {
		c, err := Load(path)
		if err == nil {
			t.Errorf("%s: loaded without error: %+v", path, c)
			continue
		}
		got := err.Error() + "\n"
		if strings.Contains(got, secret) {
			t.Errorf("%s: error shows the secret:\n%s", path, got)
		}
		if strings.Count(got, "\n") != len(unwrapAll(err)) {
			t.Errorf("%s: want one line per problem:\n%s", path, got)
		}
		golden := path + ".err"
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s:\n got:\n%s\nwant:\n%s", path, got, want)
		}
	}
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-file.yml")
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "config: ") {
		t.Fatalf("got %v", err)
	}
}

// TestShippedIsDefault keeps the shipped config.yaml and Default() equal,
// so the documented defaults cannot drift from the real ones.
func TestShippedIsDefault(t *testing.T) {
	c, err := Load("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("config.yaml differs from Default():\n got %+v\nwant %+v", c, Default())
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default() is invalid: %v", err)
	}
}

// TestShippedDocumentsEveryKey checks that config.yaml names every key of
// the Config type and comments each.
func TestShippedDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	inFile := map[string]bool{}
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			inFile[prefix+k.Value] = true
			if k.HeadComment == "" && k.LineComment == "" && v.LineComment == "" {
				t.Errorf("config.yaml:%d: %s%s has no comment", k.Line, prefix, k.Value)
			}
			if v.Kind == yaml.MappingNode {
				walk(prefix+k.Value+".", v)
			}
		}
	}
	walk("", doc.Content[0])

	inType := map[string]bool{}
	var keys func(prefix string, t reflect.Type)
	keys = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if opts == "inline" {
				keys(prefix, f.Type)
				continue
			}
			inType[prefix+name] = true
			if f.Type.Kind() == reflect.Struct {
				keys(prefix+name+".", f.Type)
			}
		}
	}
	keys("", reflect.TypeFor[Config]())

	for k := range inType {
		if !inFile[k] {
			t.Errorf("config.yaml lacks %s", k)
		}
	}
	for k := range inFile {
		if !inType[k] {
			t.Errorf("config.yaml has %s, which Config lacks", k)
		}
	}
}

func TestParseEdgeCases(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := Parse([]byte(in), "c.yaml")
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("Parse(%q):\n got %q\nwant %q", in, got, want)
		}
	}
	f("", "")
	f("---\n", "")
	f("{}", "")
	f("kafka: {}\nlog:\n", "")
	f("42", `c.yaml:1: want a mapping, got "42"`)
	f("symbols: [[AAPL]]", `c.yaml:1: symbols[0]: want a string, got a list`)
	f("anomaly: {overrides: {[a]: {}}}", `c.yaml:1: anomaly.overrides: want a plain key, got a list`)
	f("anomaly: {overrides: {TSLA: {cooldown: ~}}}", "") // null: not overridden
	f("moving_average: {ticks: 1e3}", `c.yaml:1: moving_average.ticks: want an integer, got "1e3"`)
	f("moving_average: {ticks: 99999999999999999999}",
		`c.yaml:1: moving_average.ticks: want an integer, got "99999999999999999999"`)
	f("lake: {flush_bytes: 0x100000}", "")
	f("moving_average: {ticks: !!str 300}", `c.yaml:1: moving_average.ticks: want an integer, got "300"`)
	f("kafka: {group: 123}", "") // any scalar is a string
	f("kafka: {group: ~}", `c.yaml:1: kafka.group: want a string, got no value (delete the key to keep the default)`)
}

// TestSecretNeverShown checks, for each kind of problem a value can have,
// that a value from the environment stays out of the message while the key
// and line are still named.
func TestSecretNeverShown(t *testing.T) {
	setTestEnv(t)
	f := func(in, wantPrefix string) {
		t.Helper()
		_, err := Parse([]byte(in), "c.yaml")
		if err == nil {
			t.Fatalf("Parse(%q): no error", in)
		}
		msg := err.Error()
		if strings.Contains(msg, secret) || strings.Contains(msg, "s3cr3t") {
			t.Errorf("Parse(%q): shows the secret: %s", in, msg)
		}
		if !strings.HasPrefix(msg, wantPrefix) || !strings.Contains(msg, "not shown") {
			t.Errorf("Parse(%q):\n got %q\nwant %q… not shown", in, msg, wantPrefix)
		}
	}
	f("kafka: {partitions: '${TICKSTREAM_TEST_SECRET}'}", "c.yaml:1: kafka.partitions: want an integer")
	f("kafka: {brokers: ['x${TICKSTREAM_TEST_SECRET}']}", "c.yaml:1: kafka.brokers[0]: must be host:port")
	f("log: {level: '${TICKSTREAM_TEST_SECRET}'}", "c.yaml:1: log.level: must be one of")
	f("engine: {shutdown_timeout: '${TICKSTREAM_TEST_SECRET}'}", "c.yaml:1: engine.shutdown_timeout: want a duration")
	f("symbols: ['${TICKSTREAM_TEST_SECRET}']", "c.yaml:1: symbols[0]: must match")
	f("alerts: {log: '${TICKSTREAM_TEST_SECRET}'}", "c.yaml:1: alerts.log: want true or false")
}

func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/*.yml", "../config.yaml"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid config: %v", err)
		}
		// Round trip: what Parse accepted, written back out, reads the same
		// (unless it holds text that would expand again).
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte("${")) {
			return
		}
		c2, err := Parse(out, "marshalled.yaml")
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v", c, c2)
		}
	})
}

func BenchmarkLoadShipped(b *testing.B) {
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "config.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

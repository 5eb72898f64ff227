package config

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	f := func(change func(c *Config), want ...string) {
		t.Helper()
		c := Default()
		change(c)
		got := ""
		if err := c.Validate(); err != nil {
			got = err.Error()
		}
		if w := strings.Join(want, "\n"); got != w {
			t.Errorf("got:\n%s\nwant:\n%s", got, w)
		}
	}

	f(func(c *Config) {})
	f(func(c *Config) { c.Average.Ticks = 1 }, "moving_average.ticks: must be in [2, 100000], got 1")
	f(func(c *Config) { c.Average.Ticks = 2; c.Anomaly.WarmupTicks = 2 })
	f(func(c *Config) { c.Average.Ticks = 100_001 }, "moving_average.ticks: must be in [2, 100000], got 100001")
	f(func(c *Config) { c.Kafka.Partitions = 10_000 })
	f(func(c *Config) { c.Kafka.Partitions = 10_001 }, "kafka.partitions: must be in [1, 10000], got 10001")
	f(func(c *Config) { c.Kafka.Replication = 3 })
	f(func(c *Config) { c.Kafka.Replication = -2 },
		"kafka.replication: must be -1 (the broker's default) or in [1, 32767], got -2")
	f(func(c *Config) { c.Lake.Compression = "snappy" })
	f(func(c *Config) { c.Lake.Compression = "ZSTD" }, `lake.compression: must be one of zstd, snappy, got "ZSTD"`)
	f(func(c *Config) { c.Clean.UnknownSymbols = "pass" })
	f(func(c *Config) { c.Simulator.Enabled = "true" }, `simulator.enabled: must be one of auto, on, off, got "true"`)
	f(func(c *Config) { c.Log.Level = "debug"; c.Log.Format = "json" })
	f(func(c *Config) { c.Lake.FlushInterval = 0 }, "lake.flush_interval: must be in [1s, 24h], got 0s")
	f(func(c *Config) {
		c.Lake.URL = "s3://lake/ticks"
		c.Lake.S3 = LakeS3{Endpoint: "http://127.0.0.1:7070", Region: "eu-west-1", PathStyle: true, PartSize: 5 << 20, MaxAttempts: 1}
	})
	f(func(c *Config) { c.Lake.S3.Endpoint = "127.0.0.1:7070" },
		`lake.s3.endpoint: must be empty (AWS) or an http:// or https:// URL, got "127.0.0.1:7070"`)
	f(func(c *Config) { c.Lake.S3.Endpoint = "https://s3.example/?x=1" },
		`lake.s3.endpoint: must be empty (AWS) or an http:// or https:// URL, got "https://s3.example/?x=1"`)
	f(func(c *Config) { c.Lake.S3.Region = "EU West" }, `lake.s3.region: must match ^[a-z0-9-]{0,64}$, got "EU West"`)
	f(func(c *Config) { c.Lake.S3.PartSize = 5<<20 - 1 },
		"lake.s3.part_size: must be in [5242880, 5368709120], got 5242879")
	f(func(c *Config) { c.Lake.S3.MaxAttempts = 0 }, "lake.s3.max_attempts: must be in [1, 20], got 0")
	f(func(c *Config) { c.Engine.ShutdownTimeout = 90 * time.Minute },
		"engine.shutdown_timeout: must be in [1s, 1h], got 1h30m")
	f(func(c *Config) { c.Anomaly.SpikeFactor = 1 }, "anomaly.spike_factor: must be in (1, 1000], got 1")
	f(func(c *Config) { c.Anomaly.SpikeFactor = 1.0001 })
	f(func(c *Config) { c.Anomaly.SpikeMinVolume = math.NaN() },
		"anomaly.spike_min_volume: must be in [0, 1e+12], got NaN")
	f(func(c *Config) { c.Simulator.Rate = math.Inf(1) }, "simulator.rate: must be in [0, 1e+06], got +Inf")
	f(func(c *Config) { c.Anomaly.DropFromMaxPct = 0; c.Anomaly.DropReturnPct = 99.9 })
	f(func(c *Config) { c.Anomaly.DropFromMaxPct = 100 },
		"anomaly.drop_from_max_pct: must be 0 (off) or in (0, 100), got 100")
	f(func(c *Config) { c.Anomaly.DropReturnPct = math.NaN() },
		"anomaly.drop_return_pct: must be 0 (off) or in (0, 100), got NaN")
	f(func(c *Config) { c.Anomaly.WarmupTicks = 301 },
		"anomaly.warmup_ticks: must be in [1, 300] (at most moving_average.ticks), got 301")
	f(func(c *Config) { c.Kafka.Brokers = []string{"a:1", "[::1]:9092", "b", "c:0"} },
		`kafka.brokers[2]: must be host:port, got "b"`,
		`kafka.brokers[3]: must be host:port, got "c:0"`)
	f(func(c *Config) { c.Kafka.DLQTopic = "ticks" }, `kafka.dlq_topic: must differ from kafka.topic, got "ticks"`)

	// Models: kinds, modes for lstm only, unique names, a topic of their own.
	f(func(c *Config) {
		c.Models.Files = []ModelFile{
			{Name: "xgb", Kind: "xgboost", Path: "m/x.ubj"},
			{Name: "lstm.v2", Kind: "lstm", Path: "m/l.safetensors", Mode: "stateful"},
			{Name: "win", Kind: "lstm", Path: "m/w.safetensors"},
			{Name: "base_1", Kind: "linear", Path: "m/lin.json"},
			{Name: "gbm", Kind: "lightgbm", Path: "m/model.txt", Horizon: "10s"},
		}
		c.Models.Cadence = 10 * time.Second
	})
	f(func(c *Config) { c.Models.Files = []ModelFile{{Name: "gbm", Kind: "lightgbm", Path: "m/model.txt"}} },
		`models.files[0].horizon: must be set for a lightgbm model (its file stores none), e.g. 10s, got ""`)
	f(func(c *Config) {
		c.Models.Files = []ModelFile{
			{Name: "xgb", Kind: "onnx", Path: "m/x"},
			{Name: "xgb", Kind: "xgboost", Mode: "stateful"},
			{Name: "a b", Kind: "lstm", Path: "m/l", Mode: "sometimes"},
		}
	},
		`models.files[0].kind: must be one of xgboost, lstm, linear, lightgbm, got "onnx"`,
		`models.files[1].path: must not be empty, got ""`,
		`models.files[1].mode: must be empty: mode applies to lstm models only, got "stateful"`,
		`models.files[1].name: must not repeat models.files[0].name, got "xgb"`,
		`models.files[2].name: must match ^[A-Za-z0-9._-]{1,64}$, got "a b"`,
		`models.files[2].mode: must be one of "", windowed, stateful, got "sometimes"`)
	f(func(c *Config) {
		c.Models.Topic = "alerts"
		c.Models.Window = 0
		c.Models.ReloadInterval = time.Millisecond
	},
		"models.reload_interval: must be in [100ms, 24h], got 1ms",
		"models.window: must be in [1, 10000], got 0",
		`models.topic: must differ from kafka.alerts_topic, got "alerts"`)
	f(func(c *Config) {
		c.Models.Files = []ModelFile{
			{Name: "a", Kind: "xgboost", Path: "m/a", Horizon: "10s", Symbols: []string{"AAPL", "MSFT"}},
			{Name: "b", Kind: "linear", Path: "m/b", Horizon: "soon", Symbols: []string{"AAPL", "a b", "AAPL"}},
			{Name: "c", Kind: "linear", Path: "m/c", Horizon: "-5s"},
		}
	},
		`models.files[1].horizon: must be empty or a positive duration such as 10s, got "soon"`,
		`models.files[1].symbols[1]: must match ^[A-Za-z0-9.^=_-]{1,32}$, got "a b"`,
		`models.files[1].symbols[2]: must not repeat a symbol of models.files[1].symbols, got "AAPL"`,
		`models.files[2].horizon: must be empty or a positive duration such as 10s, got "-5s"`)
	f(func(c *Config) { c.Models.Topic = "ticks.dlq"; c.Models.Cadence = -time.Second },
		"models.cadence: must be in [0s, 24h], got -1s",
		`models.topic: must differ from kafka.dlq_topic, got "ticks.dlq"`)

	// Symbols, counting the synthetic ones.
	f(func(c *Config) { c.Symbols = nil })
	f(func(c *Config) { c.Symbols = nil; c.SyntheticSymbols = 0 },
		"symbols: must list at least one symbol (or set synthetic_symbols), got none")
	f(func(c *Config) {
		c.Symbols = []string{"A", strings.Repeat("B", 32), strings.Repeat("C", 33), "", "a b"}
	},
		`symbols[2]: must match ^[A-Za-z0-9.^=_-]{1,32}$, got "`+strings.Repeat("C", 33)+`"`,
		`symbols[3]: must match ^[A-Za-z0-9.^=_-]{1,32}$, got ""`,
		`symbols[4]: must match ^[A-Za-z0-9.^=_-]{1,32}$, got "a b"`)
	f(func(c *Config) { c.Symbols = []string{"X", "Y", "X", "X"} },
		`symbols[2]: must not repeat symbols[0], got "X"`,
		`symbols[3]: must not repeat symbols[0], got "X"`)
	f(func(c *Config) { c.Symbols = []string{"SYN0980", "SYN0981", "SYN980", "SYN0000"} },
		`symbols[0]: must not repeat a synthetic symbol (SYN0001 to SYN0980), got "SYN0980"`)

	// Overrides: only for configured symbols, each field checked like the
	// global one.
	v, d := 0.5, -time.Second
	f(func(c *Config) {
		c.Anomaly.Overrides = map[string]ThresholdOverride{"SYN0980": {}, "AAPL": {}, "NFLX": {}}
	})
	f(func(c *Config) {
		c.Anomaly.Overrides = map[string]ThresholdOverride{
			"ZZZ":     {},
			"SYN0981": {SpikeFactor: &v},
			"AAPL":    {Cooldown: &d},
		}
	},
		"anomaly.overrides.AAPL.cooldown: must be in [0s, 24h], got -1s",
		`anomaly.overrides.SYN0981: must name a symbol of symbols or synthetic_symbols, got "SYN0981"`,
		"anomaly.overrides.SYN0981.spike_factor: must be in (1, 1000], got 0.5",
		`anomaly.overrides.ZZZ: must name a symbol of symbols or synthetic_symbols, got "ZZZ"`)

	// Every problem is reported, not just the first.
	f(func(c *Config) {
		c.SyntheticSymbols = -1
		c.Kafka.Group = ""
		c.Log.Format = "xml"
	},
		"synthetic_symbols: must be in [0, 100000], got -1",
		`kafka.group: must not be empty, got ""`,
		`log.format: must be one of console, json, got "xml"`)
}

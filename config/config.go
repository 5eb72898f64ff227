// Package config loads and validates config.yaml. It is a leaf package: every
// other package may import its types, it imports none of theirs.
package config

import "time"

// Config is the whole of config.yaml. Every field has a default (see Default);
// loading starts from the defaults and decodes the file over them strictly.
type Config struct {
	// Symbols are the stocks tickstream follows; editing this list is how
	// users add a stock.
	Symbols []string `yaml:"symbols"`
	// SyntheticSymbols adds N generated symbols (SYN0001 …) to Symbols, so the
	// embedded default runs at the 1000-symbol floor without a 1000-line list.
	SyntheticSymbols int `yaml:"synthetic_symbols"`

	Kafka     Kafka     `yaml:"kafka"`
	Clean     Clean     `yaml:"clean"`
	Average   Average   `yaml:"moving_average"`
	Anomaly   Anomaly   `yaml:"anomaly"`
	Lake      Lake      `yaml:"lake"`
	Alerts    Alerts    `yaml:"alerts"`
	Models    Models    `yaml:"models"`
	Simulator Simulator `yaml:"simulator"`
	Feeds     Feeds     `yaml:"feeds"`
	Log       Log       `yaml:"log"`
	Engine    Engine    `yaml:"engine"`
	Dashboard Dashboard `yaml:"dashboard"`
}

// Kafka says where ticks come from and where rejects and alerts go.
type Kafka struct {
	// Brokers empty means: start the embedded in-process broker.
	Brokers     []string `yaml:"brokers"`
	Topic       string   `yaml:"topic"`
	DLQTopic    string   `yaml:"dlq_topic"`
	AlertsTopic string   `yaml:"alerts_topic"`
	Group       string   `yaml:"group"`
	ClientID    string   `yaml:"client_id"`
	// Partitions is used when tickstream creates the ticks topic (always for
	// the embedded broker; for a real cluster only if the topic is missing).
	Partitions int `yaml:"partitions"`
	// Replication is the replication factor for topics tickstream creates
	// (-1: the broker's default).
	Replication int `yaml:"replication"`

	// SessionTimeout: a member silent this long is dropped from the group
	// and its partitions move (the broker bounds it, 6s–30m by default).
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// InstanceID, when set, makes this instance a static member: a restart
	// within SessionTimeout gets its partitions back with no rebalance. Each
	// instance needs its own; a graceful stop then keeps the partitions
	// until the session times out.
	InstanceID string `yaml:"instance_id"`

	TLS  KafkaTLS  `yaml:"tls"`
	SASL KafkaSASL `yaml:"sasl"`
}

// KafkaTLS encrypts connections to the brokers (Amazon MSK, secured clusters).
type KafkaTLS struct {
	Enabled bool `yaml:"enabled"`
	// CAFile verifies the brokers' certificates (PEM); empty: system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the client certificate for mutual TLS (PEM).
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the brokers' certificates.
	ServerName string `yaml:"server_name"`
}

// KafkaSASL authenticates to the brokers.
type KafkaSASL struct {
	// Mechanism is "" (none), PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or
	// AWS_MSK_IAM (credentials from the AWS default chain, e.g. the EC2
	// instance role).
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	// Password: write "${KAFKA_PASSWORD}" and keep the secret in the
	// environment; it never appears in logs or error messages.
	Password Secret `yaml:"password"`
}

// Secret is a string that does not print: fmt, %v, %+v and %#v all show
// "[redacted]", so a config logged whole cannot leak it. Reveal gives the
// value to the one place that needs it.
type Secret string

func (s Secret) String() string   { return "[redacted]" }
func (s Secret) GoString() string { return `"[redacted]"` }

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// Clean configures the clean operator.
type Clean struct {
	// UnknownSymbols is "drop" (reject, to the DLQ) or "pass".
	UnknownSymbols string `yaml:"unknown_symbols"`
	// AllowedLateness: a tick older than its symbol's newest event time by
	// more than this is rejected as late.
	AllowedLateness time.Duration `yaml:"allowed_lateness"`
	// MaxFuture: a tick whose event time is ahead of its Kafka record
	// timestamp by more than this is rejected.
	MaxFuture time.Duration `yaml:"max_future"`
	// MaxRecordBytes: larger records are rejected unread.
	MaxRecordBytes int `yaml:"max_record_bytes"`
}

// Average configures the rolling moving averages.
type Average struct {
	// Ticks is N of the count-based window (the design notes' 300).
	Ticks int `yaml:"ticks"`
	// Window, when non-zero, adds a time-based moving average over this span.
	Window time.Duration `yaml:"window"`
}

// Anomaly configures anomaly detection; Overrides change any threshold per symbol.
type Anomaly struct {
	Thresholds `yaml:",inline"`
	// Overrides by symbol; a field left out keeps the global value.
	Overrides map[string]ThresholdOverride `yaml:"overrides"`
}

// Thresholds are the anomaly rules for one symbol.
type Thresholds struct {
	// WarmupTicks: no alert until a symbol's window holds this many ticks.
	WarmupTicks int `yaml:"warmup_ticks"`
	// Cooldown: after an alert of one kind for one symbol, no alert of that
	// kind for that symbol until this much event time has passed.
	Cooldown time.Duration `yaml:"cooldown"`
	// SpikeFactor: volume spike when volume >= SpikeFactor x rolling mean volume
	SpikeFactor float64 `yaml:"spike_factor"`
	// SpikeMinVolume: … and volume >= this absolute floor.
	SpikeMinVolume float64 `yaml:"spike_min_volume"`
	// DropFromMaxPct: price drop when price is at least this many percent
	// below the rolling maximum of the window (0 disables).
	DropFromMaxPct float64 `yaml:"drop_from_max_pct"`
	// DropReturnPct and DropReturnWindow: price drop when the return over the
	// last DropReturnWindow is <= -DropReturnPct percent (0 disables).
	DropReturnPct    float64       `yaml:"drop_return_pct"`
	DropReturnWindow time.Duration `yaml:"drop_return_window"`
}

// ThresholdOverride is Thresholds with every field optional.
type ThresholdOverride struct {
	WarmupTicks      *int           `yaml:"warmup_ticks"`
	Cooldown         *time.Duration `yaml:"cooldown"`
	SpikeFactor      *float64       `yaml:"spike_factor"`
	SpikeMinVolume   *float64       `yaml:"spike_min_volume"`
	DropFromMaxPct   *float64       `yaml:"drop_from_max_pct"`
	DropReturnPct    *float64       `yaml:"drop_return_pct"`
	DropReturnWindow *time.Duration `yaml:"drop_return_window"`
}

// Lake configures the Parquet lake.
type Lake struct {
	// URL is a local directory (default ./data), a file:// URL or
	// s3://bucket/prefix (then S3 applies).
	URL string `yaml:"url"`
	// Compression is "zstd" or "snappy".
	Compression string `yaml:"compression"`
	// FlushInterval: open files are closed and committed at least this often.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// FlushBytes: … or when a partition's buffered Parquet reaches this size.
	FlushBytes int64 `yaml:"flush_bytes"`
	// S3 applies when URL is s3://…; credentials never live here (see LakeS3).
	S3 LakeS3 `yaml:"s3"`
}

// LakeS3 configures the S3 client of an s3:// lake. Credentials come from the
// AWS default chain (environment, shared profile, EC2 instance role), so no
// key is ever written into the config.
type LakeS3 struct {
	// Endpoint is empty for AWS, or the http(s) URL of an S3-compatible store.
	Endpoint string `yaml:"endpoint"`
	// Region is empty to take it from the default chain (AWS_REGION, the
	// profile); with an Endpoint and no region anywhere, us-east-1.
	Region string `yaml:"region"`
	// PathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key; most S3-compatible stores need it.
	PathStyle bool `yaml:"path_style"`
	// PartSize: files of this size or more go up as multipart uploads in
	// parts of this size (S3's minimum part is 5 MiB).
	PartSize int64 `yaml:"part_size"`
	// MaxAttempts per S3 request, the first included, with jittered
	// exponential backoff between them.
	MaxAttempts int `yaml:"max_attempts"`
}

// Alerts says where alerts go besides the lake's alerts table.
type Alerts struct {
	Log     bool         `yaml:"log"`
	Kafka   bool         `yaml:"kafka"`
	Webhook AlertWebhook `yaml:"webhook"`
	SNS     AlertSNS     `yaml:"sns"`
}

// AlertWebhook POSTs each alert as JSON to URL (empty: off).
type AlertWebhook struct {
	URL string `yaml:"url"`
	// Slack sends Slack's incoming-webhook body {"text": …} instead of the
	// alert JSON.
	Slack bool `yaml:"slack"`
	// Secret, when set, signs each body with HMAC-SHA256 in a header; write
	// "${TICKSTREAM_WEBHOOK_SECRET}" and keep it in the environment.
	Secret Secret `yaml:"secret"`
	// Timeout bounds one attempt, body included.
	Timeout time.Duration `yaml:"timeout"`
	// MaxAttempts per alert, the first included, with backoff between them.
	MaxAttempts int `yaml:"max_attempts"`
	// Queue is how many alerts may wait for delivery; more are dropped and
	// counted, so a slow endpoint never stalls the stream.
	Queue int `yaml:"queue"`
}

// AlertSNS publishes each alert to an Amazon SNS topic (empty TopicARN: off).
// Credentials come from the AWS default chain, like the lake's.
type AlertSNS struct {
	TopicARN string `yaml:"topic_arn"`
	// Region is empty to take it from the topic ARN.
	Region string `yaml:"region"`
	// Endpoint is empty for AWS, or the http(s) URL of an SNS-compatible API.
	Endpoint string `yaml:"endpoint"`
}

// Models configures the prediction models: which files to serve, how often
// each symbol is predicted, and where predictions go besides the lake's
// predictions table. No files: predictions are off.
type Models struct {
	// Files are the models served, each predicting every due tick.
	Files []ModelFile `yaml:"files"`
	// Cadence: 0 predicts at every accepted tick; d > 0 at a symbol's first
	// tick in each d of event time.
	Cadence time.Duration `yaml:"cadence"`
	// ReloadInterval: how often the files are checked for changes; a
	// changed file is validated and swapped in, a bad one refused.
	ReloadInterval time.Duration `yaml:"reload_interval"`
	// Window is the number of feature vectors kept per symbol: the longest
	// LSTM input window that can be served.
	Window int `yaml:"window"`
	// Topic is the Kafka topic of the live prediction stream (JSON).
	Topic string `yaml:"topic"`
}

// ModelFile is one model to serve.
type ModelFile struct {
	// Name is the model column of the predictions; unique.
	Name string `yaml:"name"`
	// Kind is xgboost, lstm or linear.
	Kind string `yaml:"kind"`
	// Path is the model file, watched for changes.
	Path string `yaml:"path"`
	// Mode applies to lstm only: windowed (the default) or stateful.
	Mode string `yaml:"mode"`
	// Horizon, if set (e.g. "10s"), must be the one stored in the file; a
	// file trained for another horizon is refused, at start and on reload.
	Horizon string `yaml:"horizon"`
	// Symbols, if any, are the only symbols the model predicts; empty: all.
	Symbols []string `yaml:"symbols"`
}

// Simulator configures the built-in market simulator feed.
type Simulator struct {
	// Enabled is "auto" (on with the embedded broker only), "on" or "off".
	Enabled string `yaml:"enabled"`
	// Rate is updates per second per symbol; 0 means as fast as possible.
	Rate float64 `yaml:"rate"`
	Seed int64   `yaml:"seed"`
	// SpikeEvery and DropEvery: mean event time between planted volume
	// spikes / price drops per symbol (0 plants none).
	SpikeEvery time.Duration `yaml:"spike_every"`
	DropEvery  time.Duration `yaml:"drop_every"`
}

// Feeds configures the market-data feeds: which one `tickstream run` starts,
// and how the real providers are polled or a recording replayed. Real
// providers poll the symbols of Symbols (never the synthetic ones).
type Feeds struct {
	// Source is the feed `run` starts: "sim" (the simulator, as
	// simulator.enabled says), "yahoo", "alphavantage", "replay" or "none".
	Source string `yaml:"source"`
	// StaleAfter: a polled tick older than this when produced carries the
	// record header stale=true (0: never).
	StaleAfter time.Duration `yaml:"stale_after"`
	// LogEvery: how often a feed logs its summary, and the least time
	// between two logged failures of one symbol.
	LogEvery     time.Duration `yaml:"log_every"`
	Yahoo        Yahoo         `yaml:"yahoo"`
	AlphaVantage AlphaVantage  `yaml:"alphavantage"`
	Replay       Replay        `yaml:"replay"`
}

// Yahoo configures the Yahoo Finance chart feed.
type Yahoo struct {
	BaseURL   string `yaml:"base_url"`   // chart and crumb host
	CookieURL string `yaml:"cookie_url"` // page that sets the session cookie
	// Interval is the wanted time between two polls of one symbol; rps may
	// make it longer (the start-up log says what it will be).
	Interval    time.Duration `yaml:"interval"`
	Concurrency int           `yaml:"concurrency"` // requests in flight at most
	RPS         float64       `yaml:"rps"`         // requests per second at most
	Timeout     time.Duration `yaml:"timeout"`     // per request
}

// AlphaVantage configures the Alpha Vantage feed.
type AlphaVantage struct {
	BaseURL string `yaml:"base_url"`
	// APIKey should come from the environment: ${ALPHAVANTAGE_API_KEY}.
	APIKey string `yaml:"api_key"`
	// Function is GLOBAL_QUOTE or TIME_SERIES_INTRADAY.
	Function          string        `yaml:"function"`
	RequestsPerMinute int           `yaml:"requests_per_minute"`
	RequestsPerDay    int           `yaml:"requests_per_day"` // 0: no daily cap
	Interval          time.Duration `yaml:"interval"`
	Timeout           time.Duration `yaml:"timeout"`
}

// Replay configures the replay feed.
type Replay struct {
	// From is a CSV file, a Parquet file, or a lake or lake table directory.
	From string `yaml:"from"`
	// Speed is "max" or a factor such as "1x", "10x", "0.5x".
	Speed string `yaml:"speed"`
}

// Log configures zap.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // console or json
}

// Engine configures the stream engine itself.
type Engine struct {
	// ShutdownTimeout bounds the flush and commit after SIGINT/SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Dashboard configures the HTTP server of `tickstream run`: the live
// dashboard, its JSON API, /metrics and the health checks.
type Dashboard struct {
	// Listen is host:port; "" turns the server off.
	Listen string `yaml:"listen"`
	// Token is the bearer token every route but /healthz and /readyz
	// needs; required when Listen is not a loopback address. Write
	// "${TICKSTREAM_DASHBOARD_TOKEN}" and keep it in the environment.
	Token Secret `yaml:"token"`
	// History is how far back the in-memory series of each symbol reach,
	// sampled every PushInterval.
	History time.Duration `yaml:"history"`
	// PushInterval is how often live clients get the symbols that changed.
	PushInterval time.Duration `yaml:"push_interval"`
	// AlertsKept is the length of the in-memory alert feed.
	AlertsKept int `yaml:"alerts_kept"`
	// SQLRowLimit is the most rows /api/sql returns.
	SQLRowLimit int `yaml:"sql_row_limit"`
}

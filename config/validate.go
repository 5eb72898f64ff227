package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks every value against its limits and reports all problems,
// one per line, as "key: must WANT, got VALUE". Load and Parse already call
// it (and add file and line to each message); call it again only after
// changing a Config in code.
func (c *Config) Validate() error {
	return errors.Join(c.validate("", nil)...)
}

// limit is one checked rule: the value at key must satisfy want.
type limit struct {
	key  string
	ok   bool
	want string // completes "must …"
	got  string // the value as the user wrote it
}

// validate runs all limits; src, from decoding, gives lines and says which
// values came from the environment (never shown) or failed to decode
// (reported already).
func (c *Config) validate(file string, src map[string]origin) []error {
	var errs []error
	for _, l := range c.limits(src) {
		o := src[l.key]
		if l.ok || o.bad {
			continue
		}
		got := l.got
		if o.env {
			got = "a value from the environment (not shown)"
		}
		errs = append(errs, &problem{file: file, line: o.line, key: l.key, msg: "must " + l.want + ", got " + got})
	}
	return errs
}

// limits is the table of every rule, in file order.
func (c *Config) limits(src map[string]origin) []limit {
	k, cl, lk, sim := &c.Kafka, &c.Clean, &c.Lake, &c.Simulator
	const day = 24 * time.Hour
	ls := []limit{
		in("synthetic_symbols", c.SyntheticSymbols, 0, 100_000),
		{key: "symbols", ok: len(c.Symbols)+c.SyntheticSymbols > 0,
			want: "list at least one symbol (or set synthetic_symbols)", got: "none"},

		matches("kafka.topic", k.Topic, topicRE),
		matches("kafka.dlq_topic", k.DLQTopic, topicRE),
		matches("kafka.alerts_topic", k.AlertsTopic, topicRE),
		differs("kafka.dlq_topic", k.DLQTopic, "kafka.topic", k.Topic),
		differs("kafka.alerts_topic", k.AlertsTopic, "kafka.topic", k.Topic),
		differs("kafka.alerts_topic", k.AlertsTopic, "kafka.dlq_topic", k.DLQTopic),
		nonEmpty("kafka.group", k.Group),
		nonEmpty("kafka.client_id", k.ClientID),
		in("kafka.partitions", k.Partitions, 1, 10_000),
		{key: "kafka.replication", ok: k.Replication == -1 || k.Replication >= 1 && k.Replication <= 32767,
			want: "be -1 (the broker's default) or in [1, 32767]", got: show(k.Replication)},
		in("kafka.session_timeout", k.SessionTimeout, time.Second, 30*time.Minute),
		{key: "kafka.tls.key_file", ok: (k.TLS.CertFile == "") == (k.TLS.KeyFile == ""),
			want: "be set together with kafka.tls.cert_file (both or neither)", got: show(k.TLS.KeyFile)},
		oneOf("kafka.sasl.mechanism", k.SASL.Mechanism, "", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "AWS_MSK_IAM"),
		{key: "kafka.sasl.username", ok: !needsUserPass(k.SASL.Mechanism) || k.SASL.Username != "",
			want: "be set for kafka.sasl.mechanism " + k.SASL.Mechanism, got: `""`},
		{key: "kafka.sasl.password", ok: !needsUserPass(k.SASL.Mechanism) || k.SASL.Password != "",
			want: "be set for kafka.sasl.mechanism " + k.SASL.Mechanism, got: `""`},

		oneOf("clean.unknown_symbols", cl.UnknownSymbols, "drop", "pass"),
		in("clean.allowed_lateness", cl.AllowedLateness, 0, day),
		in("clean.max_future", cl.MaxFuture, 0, day),
		in("clean.max_record_bytes", cl.MaxRecordBytes, 64, 1<<20),

		in("moving_average.ticks", c.Average.Ticks, 2, 100_000),
		in("moving_average.window", c.Average.Window, 0, day),

		nonEmpty("lake.url", lk.URL),
		oneOf("lake.compression", lk.Compression, "zstd", "snappy"),
		in("lake.flush_interval", lk.FlushInterval, time.Second, day),
		in("lake.flush_bytes", lk.FlushBytes, 1<<20, 4<<30),
		{key: "lake.s3.endpoint", ok: lk.S3.Endpoint == "" || isEndpoint(lk.S3.Endpoint),
			want: "be empty (AWS) or an http:// or https:// URL", got: show(lk.S3.Endpoint)},
		matches("lake.s3.region", lk.S3.Region, regionRE),
		// S3 rejects parts under 5 MiB (but the last) and over 5 GiB.
		in("lake.s3.part_size", lk.S3.PartSize, 5<<20, 5<<30),
		in("lake.s3.max_attempts", lk.S3.MaxAttempts, 1, 20),

		{key: "alerts.webhook.url", ok: c.Alerts.Webhook.URL == "" || isEndpoint(c.Alerts.Webhook.URL),
			want: "be empty (off) or an http:// or https:// URL", got: show(c.Alerts.Webhook.URL)},
		in("alerts.webhook.timeout", c.Alerts.Webhook.Timeout, 100*time.Millisecond, 5*time.Minute),
		in("alerts.webhook.max_attempts", c.Alerts.Webhook.MaxAttempts, 1, 20),
		in("alerts.webhook.queue", c.Alerts.Webhook.Queue, 1, 1_000_000),
		matches("alerts.sns.topic_arn", c.Alerts.SNS.TopicARN, snsTopicRE),
		matches("alerts.sns.region", c.Alerts.SNS.Region, regionRE),
		{key: "alerts.sns.endpoint", ok: c.Alerts.SNS.Endpoint == "" || isEndpoint(c.Alerts.SNS.Endpoint),
			want: "be empty (AWS) or an http:// or https:// URL", got: show(c.Alerts.SNS.Endpoint)},

		oneOf("simulator.enabled", sim.Enabled, "auto", "on", "off"),
		in("simulator.rate", sim.Rate, 0, 1e6),
		in("simulator.spike_every", sim.SpikeEvery, 0, 365*day),
		in("simulator.drop_every", sim.DropEvery, 0, 365*day),

		oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error"),
		oneOf("log.format", c.Log.Format, "console", "json"),
		in("engine.shutdown_timeout", c.Engine.ShutdownTimeout, time.Second, time.Hour),
	}
	for i, b := range k.Brokers {
		ls = append(ls, limit{key: fmt.Sprintf("kafka.brokers[%d]", i), ok: isHostPort(b),
			want: "be host:port", got: show(b)})
	}
	ls = append(ls, c.feedLimits()...)
	ls = append(ls, c.dashboardLimits()...)
	ls = append(ls, c.modelLimits(src)...)
	ls = append(ls, c.symbolLimits(src)...)

	// The warmup must fit in the window, or no alert would ever fire; an
	// invalid window is reported above, so don't compare against it.
	maxWarmup := c.Average.Ticks
	if maxWarmup < 2 || maxWarmup > 100_000 {
		maxWarmup = 0
	}
	ls = append(ls, thresholdLimits("anomaly.", c.Anomaly.Thresholds.all(), maxWarmup)...)
	for _, sym := range sortedKeys(c.Anomaly.Overrides) {
		p := "anomaly.overrides." + sym
		if !c.hasSymbol(sym) {
			ls = append(ls, limit{key: p, want: "name a symbol of symbols or synthetic_symbols", got: show(sym)})
		}
		ls = append(ls, thresholdLimits(p+".", c.Anomaly.Overrides[sym], maxWarmup)...)
	}
	return ls
}

// thresholdLimits checks the thresholds set in t; prefix ends in ".".
// maxWarmup is moving_average.ticks, or 0 when that is invalid itself.
func thresholdLimits(prefix string, t ThresholdOverride, maxWarmup int) []limit {
	var ls []limit
	if v := t.WarmupTicks; v != nil {
		l := in(prefix+"warmup_ticks", *v, 1, 100_000)
		if maxWarmup > 0 {
			l = in(prefix+"warmup_ticks", *v, 1, maxWarmup)
			l.want += " (at most moving_average.ticks)"
		}
		ls = append(ls, l)
	}
	if v := t.Cooldown; v != nil {
		ls = append(ls, in(prefix+"cooldown", *v, 0, 24*time.Hour))
	}
	if v := t.SpikeFactor; v != nil {
		ls = append(ls, limit{key: prefix + "spike_factor", ok: *v > 1 && *v <= 1000,
			want: "be in (1, 1000]", got: show(*v)})
	}
	if v := t.SpikeMinVolume; v != nil {
		ls = append(ls, in(prefix+"spike_min_volume", *v, 0, 1e12))
	}
	if v := t.DropFromMaxPct; v != nil {
		ls = append(ls, percent(prefix+"drop_from_max_pct", *v))
	}
	if v := t.DropReturnPct; v != nil {
		ls = append(ls, percent(prefix+"drop_return_pct", *v))
	}
	if v := t.DropReturnWindow; v != nil {
		ls = append(ls, in(prefix+"drop_return_window", *v, time.Second, 24*time.Hour))
	}
	return ls
}

// all returns t as an override that sets every field, so one function
// checks the global thresholds and each symbol's overrides alike.
func (t Thresholds) all() ThresholdOverride {
	return ThresholdOverride{&t.WarmupTicks, &t.Cooldown, &t.SpikeFactor, &t.SpikeMinVolume,
		&t.DropFromMaxPct, &t.DropReturnPct, &t.DropReturnWindow}
}

// symbolRE is also the Kafka decoder's rule for a symbol (tick.BadSymbol).
var symbolRE = regexp.MustCompile(`^[A-Za-z0-9.^=_-]{1,32}$`)

// topicRE is Kafka's rule for topic names.
var topicRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

// regionRE allows empty (from the environment) and names like eu-west-1.
var regionRE = regexp.MustCompile(`^[a-z0-9-]{0,64}$`)

// snsTopicRE allows empty (off) and standard or FIFO topic ARNs.
var snsTopicRE = regexp.MustCompile(`^(|arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?)$`)

// isEndpoint reports whether s is an http(s) URL naming a host, with no query
// or fragment, which the S3 client would silently drop.
func isEndpoint(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.User == nil && u.RawQuery == "" && u.Fragment == ""
}

// symbolLimits checks each symbol's form and that no symbol is listed twice,
// counting the synthetic ones.
func (c *Config) symbolLimits(src map[string]origin) []limit {
	var ls []limit
	first := map[string]int{}
	for i, s := range c.Symbols {
		key := fmt.Sprintf("symbols[%d]", i)
		ls = append(ls, matches(key, s, symbolRE))
		if j, dup := first[s]; dup {
			prev := fmt.Sprintf("symbols[%d]", j)
			if o := src[prev]; o.line > 0 {
				prev += fmt.Sprintf(" (line %d)", o.line)
			}
			ls = append(ls, limit{key: key, want: "not repeat " + prev, got: show(s)})
			continue
		}
		first[s] = i
		if c.isSynthetic(s) {
			ls = append(ls, limit{key: key, want: fmt.Sprintf("not repeat a synthetic symbol (SYN0001 to %s)",
				synthetic(c.SyntheticSymbols)), got: show(s)})
		}
	}
	return ls
}

// hasSymbol reports whether sym is one of AllSymbols, without building it.
func (c *Config) hasSymbol(sym string) bool {
	for _, s := range c.Symbols {
		if s == sym {
			return true
		}
	}
	return c.isSynthetic(sym)
}

// isSynthetic reports whether s is one of the synthetic symbols.
func (c *Config) isSynthetic(s string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "SYN"))
	return err == nil && n >= 1 && n <= c.SyntheticSymbols && synthetic(n) == s
}

func in[T int | int64 | float64 | time.Duration](key string, v, lo, hi T) limit {
	return limit{key: key, ok: v >= lo && v <= hi, // false for NaN
		want: fmt.Sprintf("be in [%s, %s]", show(lo), show(hi)), got: show(v)}
}

// percent allows 0, which turns the rule off, or a share strictly between
// 0 and 100: a drop of 100 % or more cannot happen to a positive price.
func percent(key string, v float64) limit {
	return limit{key: key, ok: v == 0 || v > 0 && v < 100,
		want: "be 0 (off) or in (0, 100)", got: show(v)}
}

func oneOf(key, v string, set ...string) limit {
	for _, s := range set {
		if v == s {
			return limit{key: key, ok: true}
		}
	}
	shown := make([]string, len(set))
	for i, s := range set {
		shown[i] = s
		if s == "" {
			shown[i] = `""`
		}
	}
	return limit{key: key, want: "be one of " + strings.Join(shown, ", "), got: show(v)}
}

func nonEmpty(key, v string) limit {
	return limit{key: key, ok: v != "", want: "not be empty", got: show(v)}
}

func matches(key, v string, re *regexp.Regexp) limit {
	return limit{key: key, ok: re.MatchString(v), want: "match " + re.String(), got: show(v)}
}

// differs: two topics that are the same would mix rejects, alerts and ticks.
func differs(key, v, otherKey, other string) limit {
	return limit{key: key, ok: v != other, want: "differ from " + otherKey, got: show(v)}
}

func isHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	n, perr := strconv.Atoi(port)
	return err == nil && host != "" && perr == nil && n >= 1 && n <= 65535
}

// show formats a value for a message: strings quoted, durations short
// ("24h", not "24h0m0s").
func show(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case time.Duration:
		s := v.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		return s
	}
	return fmt.Sprint(v)
}

func needsUserPass(mechanism string) bool {
	return mechanism == "PLAIN" || mechanism == "SCRAM-SHA-256" || mechanism == "SCRAM-SHA-512"
}

// speedRE is a replay speed: max, or a factor such as 1x, 10x, 0.5x.
var speedRE = regexp.MustCompile(`^(max|[0-9]*\.?[0-9]+x)$`)

// feedLimits checks the feeds section. The provider a source names must be
// usable: an API key for alphavantage, a file for replay; and no source but
// sim may run beside a simulator forced on.
func (c *Config) feedLimits() []limit {
	f, y, av := &c.Feeds, &c.Feeds.Yahoo, &c.Feeds.AlphaVantage
	const day = 24 * time.Hour
	url := func(key, v string) limit {
		return limit{key: key, ok: isEndpoint(v), want: "be an http:// or https:// URL", got: show(v)}
	}
	return []limit{
		oneOf("feeds.source", f.Source, "sim", "yahoo", "alphavantage", "replay", "none"),
		{key: "simulator.enabled", ok: f.Source == "sim" || c.Simulator.Enabled != "on",
			want: "not be on when feeds.source is not sim (one feed per run)", got: show(c.Simulator.Enabled)},
		in("feeds.stale_after", f.StaleAfter, 0, 7*day),
		in("feeds.log_every", f.LogEvery, time.Second, day),

		url("feeds.yahoo.base_url", y.BaseURL),
		url("feeds.yahoo.cookie_url", y.CookieURL),
		in("feeds.yahoo.interval", y.Interval, 100*time.Millisecond, day),
		in("feeds.yahoo.concurrency", y.Concurrency, 1, 256),
		{key: "feeds.yahoo.rps", ok: y.RPS > 0 && y.RPS <= 1000, want: "be in (0, 1000]", got: show(y.RPS)},
		in("feeds.yahoo.timeout", y.Timeout, time.Second, 5*time.Minute),

		url("feeds.alphavantage.base_url", av.BaseURL),
		{key: "feeds.alphavantage.api_key", ok: f.Source != "alphavantage" || av.APIKey != "",
			want: "be set when feeds.source is alphavantage (e.g. ${ALPHAVANTAGE_API_KEY})", got: `""`},
		oneOf("feeds.alphavantage.function", av.Function, "GLOBAL_QUOTE", "TIME_SERIES_INTRADAY"),
		in("feeds.alphavantage.requests_per_minute", av.RequestsPerMinute, 1, 100_000),
		in("feeds.alphavantage.requests_per_day", av.RequestsPerDay, 0, 100_000_000),
		in("feeds.alphavantage.interval", av.Interval, time.Second, day),
		in("feeds.alphavantage.timeout", av.Timeout, time.Second, 5*time.Minute),

		{key: "feeds.replay.from", ok: f.Source != "replay" || f.Replay.From != "",
			want: "name a CSV file or a lake directory when feeds.source is replay", got: `""`},
		matches("feeds.replay.speed", f.Replay.Speed, speedRE),
	}
}

// modelNameRE is a model name: it is a column value and a JSON string.
var modelNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// modelLimits checks the models section. Whether each file exists and
// holds a valid model is checked when the models are loaded, which names
// the file and what is wrong with it.
func (c *Config) modelLimits(src map[string]origin) []limit {
	m, k := &c.Models, &c.Kafka
	ls := []limit{
		in("models.cadence", m.Cadence, 0, 24*time.Hour),
		in("models.reload_interval", m.ReloadInterval, 100*time.Millisecond, 24*time.Hour),
		in("models.window", m.Window, 1, 10_000),
		matches("models.topic", m.Topic, topicRE),
		differs("models.topic", m.Topic, "kafka.topic", k.Topic),
		differs("models.topic", m.Topic, "kafka.dlq_topic", k.DLQTopic),
		differs("models.topic", m.Topic, "kafka.alerts_topic", k.AlertsTopic),
	}
	first := map[string]int{}
	for i, f := range m.Files {
		p := fmt.Sprintf("models.files[%d].", i)
		ls = append(ls,
			matches(p+"name", f.Name, modelNameRE),
			oneOf(p+"kind", f.Kind, "xgboost", "lstm", "linear", "lightgbm"),
			nonEmpty(p+"path", f.Path))
		if f.Kind == "lstm" {
			ls = append(ls, oneOf(p+"mode", f.Mode, "", "windowed", "stateful"))
		} else {
			ls = append(ls, limit{key: p + "mode", ok: f.Mode == "",
				want: "be empty: mode applies to lstm models only", got: show(f.Mode)})
		}
		if f.Kind == "lightgbm" && f.Horizon == "" {
			ls = append(ls, limit{key: p + "horizon", want: "be set for a lightgbm model (its file stores none), e.g. 10s", got: show(f.Horizon)})
		}
		if f.Horizon != "" {
			d, err := time.ParseDuration(f.Horizon)
			ls = append(ls, limit{key: p + "horizon", ok: err == nil && d > 0,
				want: "be empty or a positive duration such as 10s", got: show(f.Horizon)})
		}
		for k, s := range f.Symbols {
			key := fmt.Sprintf("%ssymbols[%d]", p, k)
			ls = append(ls, matches(key, s, symbolRE))
			if slices.Contains(f.Symbols[:k], s) {
				ls = append(ls, limit{key: key, want: "not repeat a symbol of " + p + "symbols", got: show(s)})
			}
		}
		if j, dup := first[f.Name]; dup {
			prev := fmt.Sprintf("models.files[%d].name", j)
			if o := src[prev]; o.line > 0 {
				prev += fmt.Sprintf(" (line %d)", o.line)
			}
			ls = append(ls, limit{key: p + "name", want: "not repeat " + prev, got: show(f.Name)})
			continue
		}
		first[f.Name] = i
	}
	return ls
}

// dashboardSamples bounds history / push_interval, the samples kept per
// symbol: 20 bytes each, so 3600 samples of 1000 symbols are 72 MB.
const dashboardSamples = 3600

// dashboardLimits checks the dashboard section. A server reachable from
// other machines must ask for a token, and a token short enough to guess
// protects nothing; the token itself is never shown.
func (c *Config) dashboardLimits() []limit {
	d := &c.Dashboard
	tokenLen := fmt.Sprintf("%d characters", len(d.Token))
	ls := []limit{
		{key: "dashboard.listen", ok: d.Listen == "" || isListen(d.Listen),
			want: `be "" (off) or host:port, e.g. 127.0.0.1:8080 (port 0: any free port, logged at start)`, got: show(d.Listen)},
		{key: "dashboard.token", ok: !isListen(d.Listen) || d.Token != "" || ListenIsLoopback(d.Listen),
			want: "be set when dashboard.listen is not a loopback address (" + d.Listen + " is reachable from other machines; " +
				"e.g. token: ${TICKSTREAM_DASHBOARD_TOKEN}, or listen on 127.0.0.1)", got: `""`},
		{key: "dashboard.token", ok: d.Token == "" || len(d.Token) >= 16,
			want: "be empty or at least 16 characters", got: tokenLen},
		in("dashboard.push_interval", d.PushInterval, 100*time.Millisecond, time.Minute),
		in("dashboard.history", d.History, time.Second, 24*time.Hour),
		in("dashboard.alerts_kept", d.AlertsKept, 1, 100_000),
		in("dashboard.sql_row_limit", d.SQLRowLimit, 1, 1_000_000),
	}
	// Only against a valid interval, which is reported above otherwise.
	if d.PushInterval >= 100*time.Millisecond && d.PushInterval <= time.Minute && d.History/d.PushInterval > dashboardSamples {
		ls = append(ls, limit{key: "dashboard.history", want: fmt.Sprintf("be at most %d × dashboard.push_interval (%s), the samples kept per symbol",
			dashboardSamples, show(dashboardSamples*d.PushInterval)), got: show(d.History)})
	}
	return ls
}

// isListen reports whether s is host:port with a port in [0, 65535]; an
// empty host means every interface.
func isListen(s string) bool {
	_, port, err := net.SplitHostPort(s)
	n, perr := strconv.Atoi(port)
	return err == nil && perr == nil && n >= 0 && n <= 65535
}

// ListenIsLoopback reports whether a listen address (host:port) accepts
// connections from this machine only: "localhost" or a loopback IP. An
// empty host (every interface) and any other name are not.
func ListenIsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package config

import "time"

// Default returns a new Config with every key at its default. The defaults run
// the whole pipeline on one machine with no setup: the embedded broker, the
// simulator feeding it, 20 real tickers plus 980 synthetic ones (the
// 1000-symbol floor), and a lake under ./data. The shipped config.yaml spells
// out exactly these values; a test keeps the two equal.
func Default() *Config {
	return &Config{
		Symbols: []string{
			"AAPL", "MSFT", "AMZN", "GOOGL", "META", "NVDA", "TSLA", "JPM", "V", "JNJ",
			"WMT", "PG", "XOM", "UNH", "HD", "BAC", "KO", "PEP", "DIS", "NFLX",
		},
		SyntheticSymbols: 980,
		Kafka: Kafka{
			Brokers:        []string{},
			Topic:          "ticks",
			DLQTopic:       "ticks.dlq",
			AlertsTopic:    "alerts",
			Group:          "tickstream",
			ClientID:       "tickstream",
			Partitions:     6,
			Replication:    -1,
			SessionTimeout: 45 * time.Second,
		},
		Clean: Clean{
			UnknownSymbols:  "drop",
			AllowedLateness: 5 * time.Second,
			MaxFuture:       time.Minute,
			MaxRecordBytes:  4096,
		},
		Average: Average{
			Ticks:  300,
			Window: 0,
		},
		Anomaly: Anomaly{
			Thresholds: Thresholds{
				WarmupTicks:      30,
				Cooldown:         60 * time.Second,
				SpikeFactor:      5,
				SpikeMinVolume:   1000,
				DropFromMaxPct:   5,
				DropReturnPct:    3,
				DropReturnWindow: 60 * time.Second,
			},
			Overrides: map[string]ThresholdOverride{},
		},
		Lake: Lake{
			URL:           "./data",
			Compression:   "zstd",
			FlushInterval: 60 * time.Second,
			FlushBytes:    128 << 20,
			S3:            LakeS3{PartSize: 16 << 20, MaxAttempts: 5},
		},
		Alerts: Alerts{Log: true, Kafka: true,
			Webhook: AlertWebhook{Timeout: 5 * time.Second, MaxAttempts: 5, Queue: 1024}},
		Models: Models{
			Files:          []ModelFile{},
			Cadence:        0,
			ReloadInterval: 5 * time.Second,
			Window:         60,
			Topic:          "predictions",
		},
		Simulator: Simulator{
			Enabled:    "auto",
			Rate:       1,
			Seed:       1,
			SpikeEvery: 30 * time.Minute,
			DropEvery:  2 * time.Hour,
		},
		Feeds: Feeds{
			Source:     "sim",
			StaleAfter: 15 * time.Minute,
			LogEvery:   time.Minute,
			Yahoo: Yahoo{
				BaseURL:     "https://query2.finance.yahoo.com",
				CookieURL:   "https://fc.yahoo.com",
				Interval:    time.Second,
				Concurrency: 4,
				RPS:         2,
				Timeout:     10 * time.Second,
			},
			AlphaVantage: AlphaVantage{
				BaseURL:           "https://www.alphavantage.co",
				APIKey:            "",
				Function:          "GLOBAL_QUOTE",
				RequestsPerMinute: 5,
				RequestsPerDay:    25,
				Interval:          time.Minute,
				Timeout:           30 * time.Second,
			},
			Replay: Replay{From: "", Speed: "1x"},
		},
		Log:    Log{Level: "info", Format: "console"},
		Engine: Engine{ShutdownTimeout: 30 * time.Second},
		Dashboard: Dashboard{
			Listen:       "127.0.0.1:8080",
			History:      15 * time.Minute,
			PushInterval: time.Second,
			AlertsKept:   500,
			SQLRowLimit:  10_000,
		},
	}
}

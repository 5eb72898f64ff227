// Command tickstream turns a live stream of stock ticks into cleaned data,
// alerts and a Parquet lake. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tickstream/tickstream/app"
	"github.com/tickstream/tickstream/config"
)

const usage = `tickstream — stock ticks in, clean data, alerts and a Parquet lake out.

Usage:
  tickstream run   [--config FILE]            consume ticks, run the operators, write the lake
  tickstream feed  [--config FILE] [flags]    produce simulated ticks into Kafka
  tickstream bench [--config FILE] [flags]    measure throughput and tick-to-alert latency
  tickstream check [--config FILE]            validate the config and exit
  tickstream query [flags] "SELECT …" | -     SQL over the local lake (DuckDB), a view per table
  tickstream athena-ddl [flags]               print Athena CREATE TABLE statements for the lake
  tickstream cost  [--config FILE] [flags]    estimate monthly S3 requests, storage and Athena scans
  tickstream predict [flags]                  score a CSV or lake Parquet file of ticks with a model
  tickstream version                          print version, commit, Go version and features

Every command reads --config (default ./config.yaml, or the built-in defaults when
there is no such file). Run a command with -h for its flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet("tickstream "+cmd, flag.ExitOnError)
	cfgPath := fs.String("config", "config.yaml", "config file")

	var run func(ctx context.Context, cfg *config.Config) error
	switch cmd {
	case "run":
		// SIGHUP reloads the config file (as do edits to it); see app.Reload.
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		run = func(ctx context.Context, cfg *config.Config) error {
			return app.RunCommand(ctx, cfg, app.Reload{Path: *cfgPath, Signal: hup})
		}
	case "feed":
		run = app.FeedFlags(fs)
	case "bench":
		run = app.BenchFlags(fs)
	case "check":
		run = func(context.Context, *config.Config) error { fmt.Println("config OK"); return nil }
	case "query":
		run = app.QueryFlags(fs)
	case "athena-ddl":
		run = app.AthenaFlags(fs)
	case "cost":
		run = app.CostFlags(fs)
	case "predict":
		run = app.PredictFlags(fs)
	case "version", "--version":
		if err := app.PrintVersion(os.Stdout); err != nil {
			os.Exit(1)
		}
		return
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "tickstream: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	_ = fs.Parse(args)

	cfg, err := loadConfig(fs, *cfgPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tickstream: %v\n", err)
		os.Exit(1)
	}

	// The first SIGINT/SIGTERM starts a graceful stop; a second one exits
	// at once, for when the graceful stop is not what the operator wants.
	// One channel stays registered throughout, so no signal can fall
	// between two handlers to the default action.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		<-sigs
		stop()
		<-sigs
		fmt.Fprintln(os.Stderr, "tickstream: second signal, exiting now")
		os.Exit(130)
	}()

	if err := run(ctx, cfg); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "tickstream %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

// loadConfig loads the config file; without --config and without a
// ./config.yaml it uses the defaults (the embedded demo), so the binary runs
// from any directory. A --config that names a missing file is an error.
func loadConfig(fs *flag.FlagSet, path string) (*config.Config, error) {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	if _, err := os.Stat(path); !explicit && errors.Is(err, os.ErrNotExist) {
		return config.Default(), nil
	}
	return config.Load(path)
}

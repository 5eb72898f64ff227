package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/tickstream/tickstream/config"
)

// Measured and published figures the estimate rests on; printed with it.
const (
	rawBytesPerRow        = 13      // raw table, zstd, simulator ticks (measured)
	processedBytesPerRow  = 27      // processed table, zstd (measured)
	alertBytesPerRow      = 40      // alerts table, assumed (rows are few)
	checkpointBytesPerSym = 7 << 10 // one symbol's operator state, before compression
	putsPerFlush          = 4       // per partition: raw, processed, batch marker, checkpoint
	deletesPerFlush       = 2       // per partition: marker and the previous checkpoint
	hoursPerMonth         = 730     // AWS's billing month
	usdPerThousandPuts    = 0.005   // S3 Standard PUT/COPY/POST/LIST, us-east-1
	usdPerGiBMonth        = 0.023   // S3 Standard storage, first 50 TB, us-east-1
	usdPerAthenaTB        = 5.0     // per 10^12 bytes scanned
	athenaMinBytes        = 10e6    // Athena bills at least 10 MB per query
)

// CostEstimate is the monthly cost of the lake for one config; see Estimate.
type CostEstimate struct {
	Symbols, Partitions                  int
	Rate                                 float64 // ticks per second per symbol
	FlushInterval                        time.Duration
	RetentionDays                        int
	FlushesPerHour                       float64 // per partition
	PutsPerHour, DeletesPerHour          float64
	PutsPerMonth, DeletesPerMonth        float64
	RowsPerDay                           float64
	RawPerDay, ProcessedPerDay, Alerts   float64 // bytes per day
	CheckpointPerFlush                   float64 // bytes uploaded per flush, all partitions
	StoredBytes                          float64 // at steady state: RetentionDays of data
	PutUSD, StorageUSD                   float64 // per month
	OHLCVScan, AlertsScan, SymbolDayScan float64 // bytes an Athena query reads, upper bound
}

// EstimateCost computes the lake's S3 requests, storage and Athena scans
// from config: symbols (with synthetic ones), rate ticks per second per
// symbol, kafka.partitions and lake.flush_interval. Alerts per symbol and
// day follow the simulator's planted anomaly rates.
func EstimateCost(cfg *config.Config, rate float64, retentionDays int) CostEstimate {
	e := CostEstimate{Symbols: len(cfg.AllSymbols()), Partitions: cfg.Kafka.Partitions, Rate: rate,
		FlushInterval: cfg.Lake.FlushInterval, RetentionDays: retentionDays}
	e.FlushesPerHour = float64(time.Hour) / float64(cfg.Lake.FlushInterval)
	e.PutsPerHour = float64(e.Partitions) * e.FlushesPerHour * putsPerFlush
	e.DeletesPerHour = float64(e.Partitions) * e.FlushesPerHour * deletesPerFlush
	e.PutsPerMonth, e.DeletesPerMonth = e.PutsPerHour*hoursPerMonth, e.DeletesPerHour*hoursPerMonth

	e.RowsPerDay = float64(e.Symbols) * rate * 86400
	e.RawPerDay = e.RowsPerDay * rawBytesPerRow
	e.ProcessedPerDay = e.RowsPerDay * processedBytesPerRow
	alertsPerSymbolDay := 0.0
	for _, every := range []time.Duration{cfg.Simulator.SpikeEvery, cfg.Simulator.DropEvery} {
		if every > 0 {
			alertsPerSymbolDay += float64(24*time.Hour) / float64(every)
		}
	}
	e.Alerts = float64(e.Symbols) * alertsPerSymbolDay * alertBytesPerRow
	e.CheckpointPerFlush = float64(e.Symbols) * checkpointBytesPerSym

	// Only the newest checkpoint per partition is kept, so it adds a
	// constant, not a daily amount.
	e.StoredBytes = float64(retentionDays)*(e.RawPerDay+e.ProcessedPerDay+e.Alerts) + e.CheckpointPerFlush
	e.PutUSD = e.PutsPerMonth / 1000 * usdPerThousandPuts
	e.StorageUSD = e.StoredBytes / (1 << 30) * usdPerGiBMonth

	// Folders are by date and hour, not symbol, and every file mixes
	// symbols, so one symbol's day reads the whole day's files at worst.
	e.OHLCVScan = e.ProcessedPerDay
	e.AlertsScan = e.Alerts
	e.SymbolDayScan = e.ProcessedPerDay
	return e
}

func athenaUSD(bytes float64) float64 { return max(bytes, athenaMinBytes) / 1e12 * usdPerAthenaTB }

// Print writes the estimate as a table with its assumptions.
func (e CostEstimate) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format+"\n", a...) }
	p("Lake cost estimate: %d symbols x %g ticks/s, %d partitions, flush every %s, %d days retained", e.Symbols, e.Rate, e.Partitions, e.FlushInterval, e.RetentionDays)
	p("")
	p("item\tper hour\tper month\tUSD/month")
	p("S3 PUT requests\t%.0f\t%.0f\t%.2f", e.PutsPerHour, e.PutsPerMonth, e.PutUSD)
	p("S3 DELETE requests\t%.0f\t%.0f\t0.00", e.DeletesPerHour, e.DeletesPerMonth)
	p("S3 storage\t\t%s\t%.2f", size(e.StoredBytes), e.StorageUSD)
	p("total\t\t\t%.2f", e.PutUSD+e.StorageUSD)
	p("")
	p("data\tper day")
	p("rows\t%.0f", e.RowsPerDay)
	p("raw\t%s", size(e.RawPerDay))
	p("processed\t%s", size(e.ProcessedPerDay))
	p("alerts\t%s", size(e.Alerts))
	p("checkpoints (uploaded per flush, newest kept)\t%s", size(e.CheckpointPerFlush))
	p("")
	p("Athena query (example)\tscanned at most\tUSD per query")
	p("OHLCV per symbol over a day of processed\t%s\t%.4f", size(e.OHLCVScan), athenaUSD(e.OHLCVScan))
	p("a day of alerts\t%s\t%.4f", size(e.AlertsScan), athenaUSD(e.AlertsScan))
	p("one symbol's day of processed\t%s\t%.4f", size(e.SymbolDayScan), athenaUSD(e.SymbolDayScan))
	p("")
	p("Assumptions: %d PUTs and %d DELETEs per partition per flush (raw, processed, batch marker,", putsPerFlush, deletesPerFlush)
	p("checkpoint; an alerts file only when there were alerts, and one more file per table when a flush")
	p("spans an hour: not counted); %d B/row raw and %d B/row processed (zstd, measured on simulator", rawBytesPerRow, processedBytesPerRow)
	p("ticks), %d B/row alerts at the simulator's anomaly rates; checkpoints %d KiB/symbol before", alertBytesPerRow, checkpointBytesPerSym>>10)
	p("compression. Prices: S3 Standard us-east-1 $%.3f per 1,000 PUTs, DELETEs free, $%.3f per", usdPerThousandPuts, usdPerGiBMonth)
	p("GiB-month; Athena $%.0f per TB scanned, 10 MB minimum per query; %d hours a month. Scans are", usdPerAthenaTB, hoursPerMonth)
	p("upper bounds: Parquet column pruning reads only the columns a query names. GET/LIST requests")
	p("(start-up probe, recovery) and data transfer in are negligible or free.")
	return tw.Flush()
}

// size formats bytes in binary units with three significant digits.
func size(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.3g %s", b, units[i])
}

// CostFlags declares `tickstream cost`'s flags and returns the command.
func CostFlags(fs *flag.FlagSet) func(context.Context, *config.Config) error {
	rate := fs.Float64("rate", -1, "ticks per second per symbol (default simulator.rate)")
	days := fs.Int("retention-days", 30, "days of data kept in the lake")
	return func(_ context.Context, cfg *config.Config) error {
		if fs.NArg() != 0 {
			return fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
		}
		r := *rate
		if r < 0 {
			r = cfg.Simulator.Rate
		}
		if r <= 0 || *days < 1 {
			return fmt.Errorf("give --rate > 0 (simulator.rate 0 means as fast as possible) and --retention-days >= 1")
		}
		return EstimateCost(cfg, r, *days).Print(os.Stdout)
	}
}

package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/sinks/lake/athena"
)

// AthenaFlags declares `tickstream athena-ddl`'s flags and returns the
// command, which prints the CREATE statements for the lake's tables.
func AthenaFlags(fs *flag.FlagSet) func(context.Context, *config.Config) error {
	location := fs.String("location", "", "the lake's s3://bucket/prefix (default lake.url when it is s3://)")
	database := fs.String("database", "tickstream", "Athena database to create the tables in")
	return func(_ context.Context, cfg *config.Config) error {
		if fs.NArg() != 0 {
			return fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
		}
		return printDDL(os.Stdout, cfg, *location, *database)
	}
}

func printDDL(w io.Writer, cfg *config.Config, location, database string) error {
	if location == "" {
		if !strings.HasPrefix(cfg.Lake.URL, "s3://") {
			return fmt.Errorf("lake.url is %q, which Athena cannot read: give --location s3://bucket/prefix (where the lake is, or will be, synced)", cfg.Lake.URL)
		}
		location = cfg.Lake.URL
	}
	ddl, err := athena.DDL(athena.Options{Location: location, Database: database, Compression: cfg.Lake.Compression})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, ddl)
	return err
}

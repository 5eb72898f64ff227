package query

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/sinks/lake/athena"
)

// ErrRemoteLake is returned (wrapped) by Open for an s3:// lake.
var ErrRemoteLake = errors.New("query reads a local lake only")

// DB is a DuckDB connection with the lake's tables as views. It serves one
// goroutine: Query calls must not overlap.
type DB struct {
	dir   string
	files map[string][]string // table → the committed files its view reads
	conn  *duckdb.Conn
	ctor  *duckdb.Connector
	tmp   string // DuckDB's spill directory, removed by Close
}

// Open opens the lake at lakeURL (a directory or a file:// URL, as lake.url
// takes them) for querying. It lists the committed files of each table once:
// files committed later are not seen by this DB.
func Open(ctx context.Context, lakeURL string) (*DB, error) {
	dir, err := localDir(lakeURL)
	if err != nil {
		return nil, err
	}
	d := &DB{dir: dir, files: map[string][]string{}}
	ok := false
	defer func() {
		if !ok {
			_ = d.Close()
		}
	}()

	tables, err := athena.Tables()
	if err != nil {
		return nil, fmt.Errorf("open lake: %w", err)
	}
	for _, t := range tables {
		files, err := tableFiles(ctx, dir, t.Name)
		if err != nil {
			return nil, err
		}
		d.files[t.Name] = files
	}

	if d.tmp, err = os.MkdirTemp("", "tickstream-query-"); err != nil {
		return nil, fmt.Errorf("open lake: %w", err)
	}
	if d.ctor, err = duckdb.NewConnector("", nil); err != nil {
		return nil, fmt.Errorf("start duckdb: %w", err)
	}
	conn, err := d.ctor.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("start duckdb: %w", err)
	}
	d.conn = conn.(*duckdb.Conn)

	// The order matters: the sandbox is in place before the views are
	// created (so they can only reach the lake), and locked before any SQL
	// of the caller runs.
	setup := []string{
		// Event times are UTC everywhere in the lake; date_trunc and
		// friends must not shift them into the machine's zone.
		"SET TimeZone = 'UTC'",
		"SET temp_directory = " + quote(d.tmp),
		"SET autoinstall_known_extensions = false",
		"SET autoload_known_extensions = false",
		"SET allow_persistent_secrets = false",
		"SET allowed_directories = [" + quote(dir+string(filepath.Separator)) + "]",
		"SET enable_external_access = false",
	}
	for _, s := range setup {
		if _, err := d.conn.ExecContext(ctx, s, nil); err != nil {
			return nil, fmt.Errorf("start duckdb: %s: %w", s, oneLine(err))
		}
	}
	for _, t := range tables {
		if err := d.createView(ctx, t); err != nil {
			return nil, err
		}
	}
	if _, err := d.conn.ExecContext(ctx, "SET lock_configuration = true", nil); err != nil {
		return nil, fmt.Errorf("start duckdb: lock configuration: %w", oneLine(err))
	}
	ok = true
	return d, nil
}

// createView registers table's view. DuckDB takes a view's columns from its
// first file, so a broken first file would fail the whole command; instead
// the table gets a view with its columns whose every query fails naming
// that file, and the other tables stay usable.
func (d *DB) createView(ctx context.Context, t athena.Table) error {
	files := d.files[t.Name]
	err := d.exec(ctx, viewSQL(t, files, ""))
	if err == nil {
		return nil
	}
	if len(files) == 0 || ctx.Err() != nil {
		return fmt.Errorf("open lake: view %s: %w", t.Name, oneLine(err))
	}
	msg := oneLine(err).Error()
	if !strings.Contains(msg, d.dir) {
		msg = files[0] + ": " + msg
	} else if i := strings.Index(msg, " Error: "); i > 0 && i < 30 {
		msg = msg[i+len(" Error: "):] // error() adds its own "Invalid Input Error: "
	}
	if ferr := d.exec(ctx, viewSQL(t, nil, "table "+t.Name+" is unreadable: "+msg)); ferr != nil {
		return fmt.Errorf("open lake: table %s: %s", t.Name, msg)
	}
	return nil
}

func (d *DB) exec(ctx context.Context, sql string) error {
	_, err := d.conn.ExecContext(ctx, sql, nil)
	return err
}

// Dir returns the lake's absolute directory, symlinks resolved.
func (d *DB) Dir() string { return d.dir }

// Files returns how many committed files the view of table covers.
func (d *DB) Files(table string) int { return len(d.files[table]) }

// Close releases DuckDB and removes its spill directory.
func (d *DB) Close() error {
	var errs []error
	if d.conn != nil {
		errs = append(errs, d.conn.Close())
		d.conn = nil
	}
	if d.ctor != nil {
		errs = append(errs, d.ctor.Close())
		d.ctor = nil
	}
	if d.tmp != "" {
		errs = append(errs, os.RemoveAll(d.tmp))
		d.tmp = ""
	}
	return errors.Join(errs...)
}

// localDir turns lake.url into an existing absolute directory. It never
// creates one: a mistyped path should fail, not look like an empty lake.
func localDir(lakeURL string) (string, error) {
	dir := lakeURL
	switch {
	case lakeURL == "":
		return "", errors.New("open lake: no lake directory (set lake.url or --lake)")
	case strings.HasPrefix(lakeURL, "s3://"):
		return "", fmt.Errorf("%w (%s): DuckDB needs its httpfs extension for S3, which tickstream does not download. "+
			"Query it with Athena (tickstream athena-ddl), or copy it and query the copy: "+
			"aws s3 sync %s ./lake && tickstream query --lake ./lake \"SELECT …\"", ErrRemoteLake, lakeURL, lakeURL)
	case strings.HasPrefix(lakeURL, "file://"):
		u, err := url.Parse(lakeURL)
		if err != nil {
			return "", fmt.Errorf("open lake %q: %w", lakeURL, err)
		}
		if u.Host != "" && u.Host != "localhost" || u.Path == "" {
			return "", fmt.Errorf("open lake %q: want file:///absolute/path", lakeURL)
		}
		dir = u.Path
	case strings.Contains(lakeURL, "://"):
		return "", fmt.Errorf("open lake %q: unsupported scheme (want a directory or file://)", lakeURL)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("open lake %q: %w", lakeURL, err)
	}
	// DuckDB checks allowed_directories against the path it opens, so the
	// views and the allowance must name the same, real, path.
	resolved, err := filepath.EvalSymlinks(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("open lake: %s does not exist (is lake.url right? `tickstream run` creates it)", abs)
	}
	if err != nil {
		return "", fmt.Errorf("open lake: %w", err)
	}
	if fi, err := os.Stat(resolved); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("open lake: %s is not a directory", abs)
	}
	return resolved, nil
}

// layout matches a committed file of the lake below its table folder.
var layout = regexp.MustCompile(`^date=\d{4}-\d{2}-\d{2}/hour=\d{2}/[^/]+\.parquet$`)

// tableFiles lists the committed files of one table through the lake's own
// LocalStore.List, which skips in-progress uploads (names starting with '.':
// DuckDB's globs would match those). Files outside the date=/hour= layout
// are left out: Hive partitioning needs every path to carry both keys.
func tableFiles(ctx context.Context, dir, table string) ([]string, error) {
	store, err := lake.NewLocalStore(dir) // dir exists: nothing is created
	if err != nil {
		return nil, err
	}
	keys, err := store.List(ctx, table+"/")
	if err != nil {
		return nil, fmt.Errorf("open lake: %w", err)
	}
	files := keys[:0]
	for _, k := range keys {
		if layout.MatchString(k[len(table)+1:]) {
			files = append(files, filepath.Join(dir, filepath.FromSlash(k)))
		}
	}
	return files, nil
}

// duckType is the DuckDB type of each column type; timestamps come out of
// the files as TIMESTAMPTZ (UTC-adjusted), so the empty views use it too.
var duckType = map[string]string{
	athena.TypeString:    "VARCHAR",
	athena.TypeDouble:    "DOUBLE",
	athena.TypeInt:       "INTEGER",
	athena.TypeBigint:    "BIGINT",
	athena.TypeTimestamp: "TIMESTAMPTZ",
	athena.TypeBoolean:   "BOOLEAN",
}

// viewSQL returns the CREATE VIEW of one table over files. With no files,
// the view has the table's columns and no rows, so queries still bind; with
// a failure message as well, querying it raises that error.
func viewSQL(t athena.Table, files []string, failure string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE OR REPLACE VIEW %s AS ", ident(t.Name))
	if len(files) == 0 {
		b.WriteString("SELECT ")
		for i, c := range append(t.Columns[:len(t.Columns):len(t.Columns)], athena.Partitions...) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "CAST(NULL AS %s) AS %s", duckType[c.Type], ident(c.Name))
		}
		if failure != "" {
			b.WriteString(" WHERE error(" + quote(failure) + ") IS NULL")
		} else {
			b.WriteString(" WHERE false")
		}
		return b.String()
	}
	b.WriteString("SELECT * FROM read_parquet([")
	for i, f := range files {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(f))
	}
	// Partition keys stay strings, as in Athena, so the example queries
	// mean the same on both ("hour" would otherwise be a number here only).
	b.WriteString("], hive_partitioning = true, hive_types = {'date': VARCHAR, 'hour': VARCHAR})")
	return b.String()
}

// quote returns s as an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ident returns s as a quoted SQL identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

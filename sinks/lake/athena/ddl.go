package athena

import (
	"errors"
	"fmt"
	"strings"
)

// ProjectionStart is the first day partition projection considers. Athena
// lists no partitions: it computes the candidate date=/hour= folders between
// this day and today and reads those that exist (and a query's WHERE on
// "date" narrows them), so an early start costs little.
const ProjectionStart = "2024-01-01"

// Options say where the lake is and what to call its database.
type Options struct {
	// Location is the lake's s3://bucket/prefix, as in lake.url.
	Location string
	// Database is the Athena (Glue) database the tables go in.
	Database string
	// Compression is lake.compression ("zstd" or "snappy"); Athena uses it
	// only for files it writes itself (INSERT INTO, CTAS).
	Compression string
}

// DDL returns a CREATE DATABASE statement and one CREATE EXTERNAL TABLE per
// lake table, each ending in ";" and separated by a blank line. Athena runs
// one statement per query: paste them one at a time, or split on ";".
func DDL(o Options) (string, error) {
	loc, err := checkLocation(o.Location)
	if err != nil {
		return "", err
	}
	if err := checkDatabase(o.Database); err != nil {
		return "", err
	}
	codec := strings.ToUpper(o.Compression)
	switch codec {
	case "":
		codec = "ZSTD"
	case "ZSTD", "SNAPPY":
	default:
		return "", fmt.Errorf("athena ddl: compression %q: want zstd or snappy", o.Compression)
	}
	ts, err := Tables()
	if err != nil {
		return "", fmt.Errorf("athena ddl: %w", err)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "CREATE DATABASE IF NOT EXISTS `%s`;\n", o.Database)
	for _, t := range ts {
		b.WriteString("\n")
		writeTable(&b, t, o.Database, loc+t.Name+"/", codec)
	}
	return b.String(), nil
}

// writeTable writes one CREATE EXTERNAL TABLE. Every identifier is
// backticked: Athena's DDL reserves many words (DATE among the lake's
// columns), and quoting all of them keeps a future column from breaking it.
func writeTable(b *strings.Builder, t Table, db, loc, codec string) {
	fmt.Fprintf(b, "CREATE EXTERNAL TABLE IF NOT EXISTS `%s`.`%s` (\n", db, t.Name)
	for i, c := range t.Columns {
		sep := ","
		if i == len(t.Columns)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "  `%s` %s%s\n", c.Name, c.Type, sep)
	}
	b.WriteString(")\nPARTITIONED BY (")
	for i, p := range Partitions {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(b, "`%s` %s", p.Name, p.Type)
	}
	b.WriteString(")\nSTORED AS PARQUET\n")
	fmt.Fprintf(b, "LOCATION '%s'\n", loc)
	b.WriteString("TBLPROPERTIES (\n")
	props := [][2]string{
		{"projection.enabled", "true"},
		{"projection.date.type", "date"},
		{"projection.date.format", "yyyy-MM-dd"},
		{"projection.date.range", ProjectionStart + ",NOW"},
		{"projection.date.interval", "1"},
		{"projection.date.interval.unit", "DAYS"},
		{"projection.hour.type", "integer"},
		{"projection.hour.range", "0,23"},
		{"projection.hour.digits", "2"},
		{"storage.location.template", loc + "date=${date}/hour=${hour}/"},
		{"parquet.compression", codec},
	}
	for i, p := range props {
		sep := ","
		if i == len(props)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "  '%s'='%s'%s\n", p[0], p[1], sep)
	}
	b.WriteString(");\n")
}

// checkLocation accepts s3://bucket[/prefix] and returns it ending in "/".
// Characters that would end the SQL string literal are refused, not escaped:
// no real bucket or key prefix has them.
func checkLocation(loc string) (string, error) {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		return "", fmt.Errorf("athena ddl: location %q: want s3://bucket/prefix (Athena reads only S3)", loc)
	}
	bucket, _, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return "", fmt.Errorf("athena ddl: location %q: no bucket", loc)
	}
	if strings.ContainsAny(loc, "'\\`\n\r\t\x00") || strings.Contains(loc, "${") {
		return "", fmt.Errorf("athena ddl: location %q: quote, backslash, control character or ${ not allowed", loc)
	}
	if strings.Contains(strings.TrimSuffix(rest, "/"), "//") {
		return "", fmt.Errorf("athena ddl: location %q: empty path segment", loc)
	}
	return strings.TrimSuffix(loc, "/") + "/", nil
}

// checkDatabase enforces Athena's rule for database names: lower-case
// letters, digits and underscores, at most 255 characters.
func checkDatabase(db string) error {
	if db == "" {
		return errors.New("athena ddl: database name is empty")
	}
	if len(db) > 255 {
		return fmt.Errorf("athena ddl: database name %q: longer than 255 characters", db)
	}
	for _, c := range []byte(db) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("athena ddl: database name %q: only a-z, 0-9 and _ are allowed", db)
		}
	}
	return nil
}

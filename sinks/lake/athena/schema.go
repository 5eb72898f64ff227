package athena

import (
	"fmt"
	"sync"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/sinks/lake"
)

// Column types, as Athena's DDL spells them. Query engines that read the
// lake directly map them to their own (see the query package).
const (
	TypeString    = "string"
	TypeDouble    = "double"
	TypeInt       = "int"
	TypeBigint    = "bigint"
	TypeTimestamp = "timestamp" // UTC; INT64 TIMESTAMP(MILLIS) in the files
	TypeBoolean   = "boolean"
)

// Partition columns, in folder order: <table>/date=YYYY-MM-DD/hour=HH/. Both
// are strings, as Athena recommends for projected keys: "date" compares as
// 'YYYY-MM-DD' and "hour" as '00'…'23', the same text on every engine.
var Partitions = []Column{{Name: "date", Type: TypeString}, {Name: "hour", Type: TypeString}}

// Column is one column of a table.
type Column struct {
	Name string
	Type string // one of the Type constants
}

// Table is one lake table: its folder name and its data columns, in file
// order, without the partition columns.
type Table struct {
	Name    string
	Columns []Column
}

var tables = sync.OnceValues(func() ([]Table, error) {
	var ts []Table
	for _, t := range []struct {
		name string
		row  any
	}{
		{lake.TableRaw, new(lake.RawRow)},
		{lake.TableProcessed, new(lake.ProcessedRow)},
		{lake.TableAlerts, new(lake.AlertRow)},
		{lake.TablePredictions, new(models.PredictionRow)},
	} {
		cols, err := columns(parquet.SchemaOf(t.row))
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", t.name, err)
		}
		ts = append(ts, Table{Name: t.name, Columns: cols})
	}
	return ts, nil
})

// Tables returns the lake's tables: raw, processed, alerts, predictions. The slice is
// shared; do not modify it. An error means a row type gained a column
// whose Parquet type has no mapping here, which the tests catch.
func Tables() ([]Table, error) { return tables() }

// columns maps a flat Parquet schema to SQL columns.
func columns(s *parquet.Schema) ([]Column, error) {
	var cols []Column
	for _, f := range s.Fields() {
		if !f.Leaf() || f.Repeated() {
			return nil, fmt.Errorf("column %s: nested or repeated columns have no mapping", f.Name())
		}
		typ, err := sqlType(f.Type())
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name(), err)
		}
		cols = append(cols, Column{Name: f.Name(), Type: typ})
	}
	return cols, nil
}

// sqlType maps a physical type and its logical annotation to the type
// Athena reads it as. Only what the lake writes is mapped: anything else is
// an error rather than a guess.
func sqlType(t parquet.Type) (string, error) {
	var logical format.LogicalTypeValue
	if lt := t.LogicalType(); lt != nil {
		logical = lt.Value
	}
	switch t.Kind() {
	case parquet.ByteArray:
		if _, ok := logical.(*format.StringType); ok {
			return TypeString, nil
		}
	case parquet.Double:
		if logical == nil {
			return TypeDouble, nil
		}
	case parquet.Boolean:
		if logical == nil {
			return TypeBoolean, nil
		}
	case parquet.Int32:
		if it, ok := logical.(*format.IntType); logical == nil || ok && it.BitWidth == 32 && it.IsSigned {
			return TypeInt, nil
		}
	case parquet.Int64:
		switch lt := logical.(type) {
		case nil:
			return TypeBigint, nil
		case *format.IntType:
			if lt.BitWidth == 64 && lt.IsSigned {
				return TypeBigint, nil
			}
		case *format.TimestampType:
			// Athena rejects NANOS and reads MICROS with a different
			// meaning on older engines; the lake writes MILLIS, UTC.
			if _, ms := lt.Unit.Value.(*format.MilliSeconds); ms && lt.IsAdjustedToUTC {
				return TypeTimestamp, nil
			}
		}
	}
	return "", fmt.Errorf("no Athena type for Parquet %s %v", t.Kind(), t.LogicalType())
}

// Package alert delivers anomaly alerts to people and systems: the structured
// log, a Kafka topic, an HTTP webhook (Slack-compatible) and Amazon SNS. A
// Publisher is called on a partition task's goroutine, so it must not block
// and must copy what it keeps: the alert it is handed is reused for the next
// tick. Network publishers queue and deliver from a goroutine of their own;
// they never apply backpressure to the stream, they drop and count.
package alert

import (
	"math"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/tickstream/tickstream/operators"
)

// Publisher delivers one alert raised by the tick at (partition, offset).
// Publish must not retain a; errors are the publisher's to count and log,
// because a failed delivery must never stall the stream.
type Publisher interface {
	Publish(a *operators.Alert, partition int32, offset int64)
}

// Multi fans an alert out to every publisher in order.
type Multi []Publisher

func (m Multi) Publish(a *operators.Alert, partition int32, offset int64) {
	for _, p := range m {
		p.Publish(a, partition, offset)
	}
}

// Log writes alerts as structured zap entries at warn level.
type Log struct{ L *zap.Logger }

func (l Log) Publish(a *operators.Alert, partition int32, offset int64) {
	l.L.Warn("anomaly",
		zap.String("symbol", a.Symbol),
		zap.String("kind", a.Kind.String()),
		zap.String("rule", a.Rule),
		zap.Time("ts", time.UnixMilli(a.TS).UTC()),
		zap.Float64("observed", a.Observed),
		zap.Float64("threshold", a.Threshold),
		zap.Float64("reference", a.Reference),
		zap.Int32("partition", partition),
		zap.Int64("offset", offset),
	)
}

// Kafka produces each alert as JSON (see AppendJSON) to Topic, keyed by
// symbol, asynchronously; OnError is told of failed deliveries.
type Kafka struct {
	Client  *kgo.Client
	Topic   string
	OnError func(error)
}

func (k Kafka) Publish(a *operators.Alert, partition int32, offset int64) {
	// The record owns its value until it is acknowledged, so each alert gets
	// a fresh buffer; alerts are rare enough that this is not a hot path.
	rec := &kgo.Record{
		Topic: k.Topic,
		Key:   []byte(a.Symbol),
		Value: AppendJSON(make([]byte, 0, 256), a, partition, offset),
	}
	k.Client.Produce(nil, rec, func(_ *kgo.Record, err error) {
		if err != nil && k.OnError != nil {
			k.OnError(err)
		}
	})
}

// AppendJSON appends the alert's JSON form, the contract of the alerts topic:
//
//	{"symbol":"AAPL","kind":"volume_spike","rule":"factor","ts":"2026-11-25T14:31:07.000Z",
//	 "observed":91000,"threshold":25000,"reference":5000,"partition":3,"offset":81234}
//
// Non-finite numbers become null, since JSON has no NaN.
func AppendJSON(dst []byte, a *operators.Alert, partition int32, offset int64) []byte {
	dst = append(dst, `{"symbol":`...)
	dst = strconv.AppendQuote(dst, a.Symbol)
	dst = append(dst, `,"kind":"`...)
	dst = append(dst, a.Kind.String()...)
	dst = append(dst, `","rule":`...)
	dst = strconv.AppendQuote(dst, a.Rule)
	dst = append(dst, `,"ts":"`...)
	dst = time.UnixMilli(a.TS).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	dst = append(dst, `","observed":`...)
	dst = appendFloat(dst, a.Observed)
	dst = append(dst, `,"threshold":`...)
	dst = appendFloat(dst, a.Threshold)
	dst = append(dst, `,"reference":`...)
	dst = appendFloat(dst, a.Reference)
	dst = append(dst, `,"partition":`...)
	dst = strconv.AppendInt(dst, int64(partition), 10)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, offset, 10)
	return append(dst, '}')
}

func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}
